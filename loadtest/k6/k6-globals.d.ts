// k6 provides a console in every context, but @types/k6 does not declare one and the ES libs
// have none (it comes from the DOM or Node typings, neither of which applies to k6).
declare global {
  const console: {
    log(...data: unknown[]): void;
    info(...data: unknown[]): void;
    warn(...data: unknown[]): void;
    error(...data: unknown[]): void;
    debug(...data: unknown[]): void;
  };
}

export {};
