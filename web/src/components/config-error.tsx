interface ConfigErrorProps {
  readonly source: string;
  readonly problems: readonly string[];
}

/** Shown instead of the dashboard when the runtime config cannot be used. */
export function ConfigError({ source, problems }: ConfigErrorProps) {
  return (
    <main className="config-error" role="alert" aria-labelledby="config-error-title">
      <h1 id="config-error-title">The dashboard cannot start: its configuration is broken</h1>
      <p>
        Problems with <code>{source}</code>:
      </p>
      <ul>
        {problems.map((problem) => (
          <li key={problem}>
            <code>{problem}</code>
          </li>
        ))}
      </ul>
      <p>
        <code>config.json</code> sits next to <code>index.html</code> and looks like this:
      </p>
      <pre>{`{
  "backends": {
    "droplet":    { "httpUrl": "http://localhost:3000", "wsUrl": "ws://localhost:3000/ws" },
    "serverless": { "httpUrl": "http://localhost:4000", "wsUrl": "ws://localhost:4001" }
  }
}`}</pre>
    </main>
  );
}
