import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** Whether the process still runs a second later (a zombie waiting for its reaper counts as gone). */
export async function stillRunning(pid: number): Promise<boolean> {
  for (let i = 0; i < 20; i++) {
    let state: string;
    try {
      state = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.charAt(0);
    } catch {
      return false;
    }
    if (state === 'Z') return false;
    await sleep(50);
  }
  return true;
}
