/**
 * Renders on change, never on a timer: `markDirty()` schedules one render, at most `maxFps`
 * times a second. With nothing changing, nothing runs.
 */
export class RenderScheduler {
  private pending: NodeJS.Timeout | undefined;
  private last = 0;
  private count = 0;

  constructor(
    private readonly render: () => void,
    private maxFps: number,
  ) {}

  setMaxFps(fps: number): void {
    this.maxFps = fps;
  }

  markDirty(): void {
    if (this.pending) return;
    const wait = Math.max(0, this.last + 1000 / this.maxFps - performance.now());
    this.pending = setTimeout(() => this.flush(), wait);
  }

  /** Renders now if anything is pending. */
  flush(): void {
    if (this.pending) clearTimeout(this.pending);
    this.pending = undefined;
    this.last = performance.now();
    this.count++;
    this.render();
  }

  get renders(): number {
    return this.count;
  }

  dispose(): void {
    if (this.pending) clearTimeout(this.pending);
    this.pending = undefined;
  }
}
