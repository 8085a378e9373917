// tinypool entry point of the analysis pool.
import { commonHandlers, dispatcher } from './common.js';

export default dispatcher({
  ...commonHandlers,
});
