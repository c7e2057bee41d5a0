/** A span for people: "4.2 s", "3 min 5 s". */
export function formatSeconds(seconds: number): string {
  const s = Math.max(0, seconds);
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** From one ISO time to another, or to now while it goes on; '' before it began. */
export function duration(from: string | null, to: string | null, now = Date.now()): string {
  if (!from) return '';
  return formatSeconds(((to ? Date.parse(to) : now) - Date.parse(from)) / 1000);
}
