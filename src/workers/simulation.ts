// tinypool entry point of the simulation pool.
import { runBacktestTask } from '../core/backtest/tasks.js';
import { commonHandlers, dispatcher } from './common.js';

export default dispatcher({
  ...commonHandlers,
  'backtest.run': (task) => runBacktestTask(task),
});
