// tinypool entry point of the simulation pool.
import { runBacktestTask } from '../core/backtest/tasks.js';
import { sweepDrop, sweepLoad, sweepTrial } from '../core/backtest/sweep.js';
import { runNnTestTask, runNnTrainTask } from '../core/nn/tasks.js';
import { commonHandlers, dispatcher } from './common.js';

export default dispatcher({
  ...commonHandlers,
  'backtest.run': (task) => runBacktestTask(task),
  'sweep.load': (task) => sweepLoad(task),
  'sweep.trial': (task) => sweepTrial(task),
  'sweep.drop': (task) => sweepDrop(task),
  'nn.train': (task) => runNnTrainTask(task),
  'nn.test': (task) => runNnTestTask(task),
});
