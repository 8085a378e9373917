// tinypool entry point of the simulation pool.
import { commonHandlers, dispatcher } from './common.js';

export default dispatcher({
  ...commonHandlers,
});
