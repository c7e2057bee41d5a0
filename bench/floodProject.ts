/** The text of the benchmark's line i; the script below prints it for i = 1..n. */
export const floodLine = (i: number | string): string => `log line number ${i} of the benchmark`;

/** A script printing n numbered lines as fast as awk can: the log benchmarks' load. */
export const floodScript = (n: number): string =>
  `awk 'BEGIN { for (i = 1; i <= ${n}; i++) print "${floodLine('" i "')}" }'`;

/** Environment Bench and project Flood, whose one step runs `body`. */
export const floodProject = (body: string): string => `
environments: [ { name: Bench } ]
projects:
  - name: Flood
    process:
      steps:
        - name: Print
          script: { body: ${JSON.stringify(body)} }
`;
