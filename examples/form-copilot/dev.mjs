// `npm run dev`: the service (restarted when its code changes) and the form copilot's Vite dev
// server (hot reload) side by side; Vite forwards /api and /trpc to the service. Stops both when
// either stops or on Ctrl+C.
import { spawn } from 'node:child_process';

const children = [
  spawn('npm', ['run', 'dev:server'], { stdio: 'inherit' }),
  spawn('npm', ['run', 'dev', '-w', '@ai-threads/form-copilot'], { stdio: 'inherit' }),
];
process.stdout.write('\nform copilot with hot reload: http://localhost:5173/  (the service: http://localhost:3000/)\n\n');

let stopping = false;
function stop(code) {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  process.exitCode = code;
}
for (const child of children) child.on('exit', (code) => stop(code ?? 1));
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
