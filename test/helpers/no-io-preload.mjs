// Loaded with `node --import` by `npm run test:unit`: the unit layer may not open a socket or start a process, so every
// way to do either throws, naming what was attempted. (test/unit/no-io-imports.test.ts checks the imports statically.)
import childProcess from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { syncBuiltinESMExports } from 'node:module';

function refuse(what) {
  return function refused() {
    throw new Error(
      `${what} in a unit test: test/unit runs without sockets or child processes; move the test to the end-to-end suite`,
    );
  };
}

net.Socket.prototype.connect = refuse('net.Socket.connect');
net.Server.prototype.listen = refuse('net.Server.listen');
dgram.Socket.prototype.bind = refuse('dgram.Socket.bind');
for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'])
  childProcess[name] = refuse(`child_process.${name}`);
syncBuiltinESMExports();
