import type { StepUsage } from '@longshore/client';
import { formatCpu, formatMemory } from './quantities.js';
import { currentRequest } from './usageFigures.js';

/** One resource of the chart: each run's peak, beside the request and the recommendation. */
interface Series {
  title: string;
  format: (value: number) => string;
  /** The unit the axis is rounded in: a millicore, a mebibyte. */
  unit: number;
  peaks: number[];
  request: number | undefined;
  recommended: number;
}

// The drawing's own units (the SVG scales to its box): two panels, CPU above memory.
const WIDTH = 320;
const AXIS_WIDTH = 48;
const TITLE_HEIGHT = 18;
const PLOT_HEIGHT = 64;
const PANEL_HEIGHT = TITLE_HEIGHT + PLOT_HEIGHT + 14;
/** Fewer runs than this still get bars this narrow, so that two runs do not look like a wall. */
const MIN_SLOTS = 8;
const ROUND_STEPS = [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10];

/** The axis's top: a round number of units a little above the highest value drawn ("1000m", "1500Mi"). */
function axisTop(highest: number, unit: number): number {
  const units = Math.max(1, (highest * 1.05) / unit);
  const magnitude = 10 ** Math.floor(Math.log10(units));
  return ROUND_STEPS.find((step) => step * magnitude >= units)! * magnitude * unit;
}

function seriesOf(usage: StepUsage): Series[] {
  const request = currentRequest(usage);
  const { recommendation, runs } = usage;
  return [
    {
      title: 'Peak CPU',
      format: formatCpu,
      unit: 1,
      peaks: runs.map((r) => r.peakCpuMillis),
      request: request.cpuMillis,
      recommended: recommendation.cpuMillis,
    },
    {
      title: 'Peak memory',
      format: formatMemory,
      unit: 2 ** 20,
      peaks: runs.map((r) => r.peakMemoryBytes),
      request: request.memoryBytes,
      recommended: recommendation.memoryBytes,
    },
  ];
}

function describe(series: Series, learning: boolean): string {
  const low = Math.min(...series.peaks);
  const high = Math.max(...series.peaks);
  const peaks = low === high ? series.format(high) : `from ${series.format(low)} to ${series.format(high)}`;
  const request = series.request === undefined ? 'no known request' : `a request of ${series.format(series.request)}`;
  const recommendation = `${learning ? 'a provisional' : 'a'} recommendation of ${series.format(series.recommended)}`;
  return `${series.title} ${peaks}, against ${request} and ${recommendation}.`;
}

/** What the chart shows, in words: the SVG's accessible name. */
export function chartSummary(usage: StepUsage): string {
  const killed = usage.runs.filter((r) => r.oomKilled).length;
  const learning = usage.recommendation.state === 'learning';
  return [
    `${usage.step}, the last ${usage.runs.length} measured runs.`,
    ...seriesOf(usage).map((s) => describe(s, learning)),
    killed > 0 ? `${killed} OOM-killed.` : '',
  ]
    .filter(Boolean)
    .join(' ');
}

function Panel(props: { series: Series; killed: boolean[]; top: number }) {
  const { series, killed, top } = props;
  const plotTop = top + TITLE_HEIGHT;
  const plotBottom = plotTop + PLOT_HEIGHT;
  const plotWidth = WIDTH - AXIS_WIDTH;
  const scaleMax = axisTop(Math.max(...series.peaks, series.request ?? 0, series.recommended), series.unit);
  const y = (value: number) => plotBottom - (value / scaleMax) * PLOT_HEIGHT;
  const slot = plotWidth / Math.max(series.peaks.length, MIN_SLOTS);
  const level = (value: number, className: string) => (
    <line className={className} x1={AXIS_WIDTH} x2={WIDTH} y1={y(value)} y2={y(value)} />
  );
  return (
    <g>
      <text className="usage-chart-title" x={0} y={top + 12}>
        {series.title}
      </text>
      <text className="usage-chart-axis" x={AXIS_WIDTH - 4} y={plotTop + 8} textAnchor="end">
        {series.format(scaleMax)}
      </text>
      <text className="usage-chart-axis" x={AXIS_WIDTH - 4} y={plotBottom} textAnchor="end">
        0
      </text>
      <line className="usage-chart-baseline" x1={AXIS_WIDTH} x2={WIDTH} y1={plotBottom} y2={plotBottom} />
      {series.peaks.map((peak, i) => {
        const x = AXIS_WIDTH + i * slot + slot * 0.15;
        return (
          <g key={i}>
            <rect
              className={killed[i] ? 'usage-bar usage-bar-killed' : 'usage-bar'}
              x={x}
              y={y(peak)}
              width={slot * 0.7}
              height={plotBottom - y(peak)}
            />
            {/* Not by colour alone: an OOM-killed run is also marked under its bar. */}
            {killed[i] && (
              <text className="usage-chart-mark" x={x + slot * 0.35} y={plotBottom + 11} textAnchor="middle">
                ✕
              </text>
            )}
          </g>
        );
      })}
      {series.request !== undefined && level(series.request, 'usage-request')}
      {level(series.recommended, 'usage-recommended')}
    </g>
  );
}

/**
 * A step's last runs at a glance: each run's peak CPU and memory as bars (oldest on the left, an
 * OOM-killed run in red), the current request dashed and the recommendation as a solid line. Its
 * figures are the accessible name, and in the runs' table beside it.
 */
export function UsageChart(props: { usage: StepUsage }) {
  const { usage } = props;
  const killed = usage.runs.map((r) => r.oomKilled);
  return (
    <svg
      className="usage-chart"
      role="img"
      aria-label={chartSummary(usage)}
      viewBox={`0 0 ${WIDTH} ${PANEL_HEIGHT * 2}`}
      preserveAspectRatio="xMinYMin meet"
    >
      {seriesOf(usage).map((series, i) => (
        <Panel key={series.title} series={series} killed={killed} top={i * PANEL_HEIGHT} />
      ))}
    </svg>
  );
}
