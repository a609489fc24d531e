// The `nginx` row: one nginx worker as a keep-alive reverse proxy to the simulator, the limit of
// one hop on this machine. Runs only when `nginx` is on PATH; its files live in the run's temp
// directory, and it runs in the foreground as a single process (no master) so that its pid is
// the one process doing the work, sampled like a gateway's.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { closedPort, startProcess } from './processes.mjs';

/** The nginx binary on PATH, or undefined. */
export function findNginx() {
  try {
    return execFileSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || undefined;
  } catch {
    return undefined;
  }
}

function nginxConfig(directory, port, simUrl) {
  const upstream = new URL(simUrl);
  return `daemon off;
master_process off;
worker_processes 1;
pid ${join(directory, 'nginx.pid')};
error_log ${join(directory, 'nginx-error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${join(directory, 'nginx-tmp', 'body')};
  proxy_temp_path ${join(directory, 'nginx-tmp', 'proxy')};
  fastcgi_temp_path ${join(directory, 'nginx-tmp', 'fastcgi')};
  uwsgi_temp_path ${join(directory, 'nginx-tmp', 'uwsgi')};
  scgi_temp_path ${join(directory, 'nginx-tmp', 'scgi')};
  keepalive_requests 1000000;
  upstream sim { server ${upstream.hostname}:${upstream.port}; keepalive 256; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://sim;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
    }
  }
}
`;
}

/** Starts nginx in front of the simulator; resolves with the process handle once it answers. */
export async function startNginx(binary, directory, simUrl) {
  const port = await closedPort();
  mkdirSync(join(directory, 'nginx-tmp'), { recursive: true });
  const configPath = join(directory, 'nginx.conf');
  writeFileSync(configPath, nginxConfig(directory, port, simUrl));
  const url = `http://127.0.0.1:${port}`;
  return startProcess({
    name: 'nginx',
    command: binary,
    args: ['-p', directory, '-c', configPath, '-e', join(directory, 'nginx-error.log')],
    directory,
    isReady: async () => {
      try {
        await fetch(`${url}/_sim/stats`, { signal: AbortSignal.timeout(500) });
        return url;
      } catch {
        return undefined;
      }
    },
  });
}
