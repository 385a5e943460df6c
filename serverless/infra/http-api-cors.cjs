/**
 * The HTTP API's CORS configuration from ALLOWED_ORIGINS, the same comma list the functions read
 * (`${file(...)}` in serverless.yml runs this when the template is built): API Gateway answers
 * preflights and adds CORS headers only for these origins, never with credentials. Without a
 * declaration serverless-offline echoes any Origin with `Access-Control-Allow-Credentials: true`.
 * Unset: no origin at all (only clients that send no Origin, such as k6 or a script).
 */
'use strict';

module.exports = () => {
  const allowedOrigins = (process.env.ALLOWED_ORIGINS ?? '')
    .split(',')
    .map((origin) => origin.trim().replace(/\/+$/, ''))
    .filter((origin) => origin !== '');
  return {
    allowedOrigins,
    allowedHeaders: ['authorization'],
    allowedMethods: ['GET', 'HEAD', 'OPTIONS'],
    allowCredentials: false,
    maxAge: 600,
  };
};
