/** Largest `POST /slack/events` body accepted (Slack's reaction events are well under 4 KiB). */
export const MAX_SLACK_BODY_BYTES = 64 * 1024;

/** Largest WebSocket frame a client may send; the droplet closes larger ones with 1009. */
export const MAX_CLIENT_FRAME_BYTES = 4 * 1024;
