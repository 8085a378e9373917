// tinypool entry point of the analysis pool.
import { commonHandlers, dispatcher } from './common.js';
import { analysisHandlers } from './analysis-tasks.js';

export default dispatcher({
  ...commonHandlers,
  ...analysisHandlers,
});
