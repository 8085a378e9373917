import type { BenchSection } from './index.js';

export const section: BenchSection = {
  name: 'tui',
  async run() {
    return { pending: 'written next' };
  },
};
