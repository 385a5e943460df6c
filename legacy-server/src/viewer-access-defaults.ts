/** Viewer access when a caller (a test, the bench) passes none: off, and no browser origin. */
import type { ViewerAccessSettings } from '@reactometer/shared/auth';

export type { ViewerAccessSettings };

export const ANONYMOUS_ACCESS: ViewerAccessSettings = {
  mode: 'off',
  tokenSecret: undefined,
  allowedOrigins: [],
  slack: undefined,
};
