// serverless-offline-sns ships no type declarations; local-sns.ts types the little it uses.
declare module 'serverless-offline-sns' {
  const ServerlessOfflineSns: unknown;
  export default ServerlessOfflineSns;
}
