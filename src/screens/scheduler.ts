/**
 * Renders on change, never on a timer: `markDirty()` schedules one render, at most `maxFps`
 * times a second. With nothing changing, nothing runs.
 */
export class RenderScheduler {
  private pending_: NodeJS.Timeout | undefined;
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
    if (this.pending_) return;
    const wait = Math.max(0, this.last + 1000 / this.maxFps - performance.now());
    this.pending_ = setTimeout(() => this.flush(), wait);
  }

  /** Renders now if anything is pending. */
  flush(): void {
    if (this.pending_) clearTimeout(this.pending_);
    this.pending_ = undefined;
    this.last = performance.now();
    this.count++;
    this.render();
  }

  /** True while a render is scheduled. */
  get pending(): boolean {
    return this.pending_ !== undefined;
  }

  get renders(): number {
    return this.count;
  }

  dispose(): void {
    if (this.pending_) clearTimeout(this.pending_);
    this.pending_ = undefined;
  }
}
