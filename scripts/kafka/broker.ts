/**
 * A local single-node Kafka (KRaft, broker and controller in one JVM) for development,
 * tests and benchmarks. Runs detached with a pid file so it outlives the CLI that
 * started it; everything lives under one data directory, so tests can run private
 * brokers on other ports next to the developer's one.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { topicSpecs, type TopicOptions } from '../../shared/kafka/topics';
import { installKafka, KAFKA_HOME, LIBS_DIR } from './install';

/** Where and how one broker runs. */
export interface BrokerOptions {
  /** Client (PLAINTEXT) port on 127.0.0.1. Default: $KAFKA_PORT or 9092. */
  port?: number;
  /** KRaft controller port on 127.0.0.1. Default: $KAFKA_CONTROLLER_PORT or port + 1. */
  controllerPort?: number;
  /** Holds config, pid file, broker log and partition data. Default: $KAFKA_DATA_DIR or .kafka/data. */
  dataDir?: string;
  /** JVM max heap. Default 512m: the broker is small and shares 2 cores with workerd. */
  heap?: string;
  /** Progress lines (install, start); silent by default. */
  log?: (line: string) => void;
  /**
   * Adds a SASL_PLAINTEXT listener on this port with one user for PLAIN, SCRAM-SHA-256
   * and SCRAM-SHA-512, to test authenticated clients (SCRAM users exist only if set
   * when the data dir is first formatted).
   */
  sasl?: { port: number; username: string; password: string };
}

/** What {@link ensureBroker} hands back. */
export interface BrokerHandle {
  /** `127.0.0.1:<port>`, ready for a kafkajs client. */
  brokers: string;
  port: number;
  dataDir: string;
  /** True when this call launched the JVM (false: one was already running). */
  started: boolean;
  /** Stops the broker if this call started it; a no-op for a broker someone else owns. */
  stop(): Promise<void>;
}

interface Resolved {
  sasl: BrokerOptions['sasl'];
  port: number;
  controllerPort: number;
  dataDir: string;
  heap: string;
  log: (line: string) => void;
}

function resolveOptions(options: BrokerOptions = {}): Resolved {
  const port = options.port ?? Number(process.env.KAFKA_PORT ?? 9092);
  return {
    port,
    controllerPort: options.controllerPort ?? Number(process.env.KAFKA_CONTROLLER_PORT ?? port + 1),
    dataDir: options.dataDir ?? process.env.KAFKA_DATA_DIR ?? join(KAFKA_HOME, 'data'),
    heap: options.heap ?? '512m',
    sasl: options.sasl,
    log: options.log ?? (() => {}),
  };
}

const pidFile = (dataDir: string): string => join(dataDir, 'broker.pid');
/** The broker's stdout/stderr (WARN and above, see log4j2 config below). */
export const brokerLogFile = (dataDir: string): string => join(dataDir, 'broker.log');

function saslProperties(sasl: NonNullable<BrokerOptions['sasl']>): string[] {
  const prefix = 'listener.name.sasl_plaintext';
  return [
    'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
    `${prefix}.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_${sasl.username}="${sasl.password}";`,
    `${prefix}.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`,
    `${prefix}.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`,
  ];
}

function serverProperties(o: Resolved): string {
  const sasl = o.sasl ? `,SASL_PLAINTEXT://127.0.0.1:${o.sasl.port}` : '';
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${o.controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${o.port},CONTROLLER://127.0.0.1:${o.controllerPort}${sasl}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${o.port}${sasl}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT',
    ...(o.sasl ? saslProperties(o.sasl) : []),
    `log.dirs=${join(o.dataDir, 'logs')}`,
    'num.partitions=3',
    // Topics are created explicitly (ensureTopics) with their partitions and retention;
    // auto-creation would hide a missing or misspelt topic.
    'auto.create.topics.enable=false',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=3',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    // A dev box: keep disk bounded even if nobody sets topic retention.
    'log.retention.hours=24',
    'log.segment.bytes=67108864',
    '',
  ].join('\n');
}

const LOG4J2 = [
  'status = warn',
  'appender.console.type = Console',
  'appender.console.name = STDOUT',
  'appender.console.layout.type = PatternLayout',
  'appender.console.layout.pattern = [%d] %p %m (%c)%n',
  'rootLogger.level = warn',
  'rootLogger.appenderRef.stdout.ref = STDOUT',
  // One INFO line that says the broker is up, useful in the log when debugging.
  'logger.server.name = kafka.server.KafkaRaftServer',
  'logger.server.level = info',
  '',
].join('\n');

function readPid(dataDir: string): number | null {
  try {
    const pid = Number(readFileSync(pidFile(dataDir), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else, still alive.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Resolves true if something accepts TCP connections on 127.0.0.1:port. */
export function isPortOpen(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (open: boolean): void => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** True when a Kafka broker on `brokers` answers a metadata request. */
export async function isKafkaReady(brokers: string, timeoutMs = 3000): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'kafka-readiness',
    brokers: brokers.split(','),
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null && cluster.controller >= 0;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/**
 * Kafka's cluster ids are 16 random bytes in URL-safe base64 without padding. One in 64
 * starts with '-', which the storage tool's argument parser takes for an option (a
 * flaky format failure); Kafka's own Uuid.randomUuid() regenerates those, and so do we.
 */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

async function runJava(args: string[], logPath: string): Promise<void> {
  const fd = openSync(logPath, 'a');
  try {
    const child = spawn('java', args, { stdio: ['ignore', fd, fd] });
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', resolve);
    });
    if (code !== 0) throw new Error(`java ${args.at(-1) ?? ''} exited with ${code}; see ${logPath}`);
  } finally {
    closeSync(fd);
  }
}

function jvmArgs(o: Resolved): string[] {
  return [
    `-Xmx${o.heap}`,
    '-Xms128m',
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${join(o.dataDir, 'log4j2.properties')}`,
    '-cp',
    `${LIBS_DIR}/*`,
  ];
}

/** Writes config and formats KRaft storage the first time a data dir is used. */
async function prepareDataDir(o: Resolved): Promise<string> {
  mkdirSync(o.dataDir, { recursive: true });
  const config = join(o.dataDir, 'server.properties');
  // Rewritten on every start so a changed port takes effect; the storage keeps its cluster id.
  writeFileSync(config, serverProperties(o));
  writeFileSync(join(o.dataDir, 'log4j2.properties'), LOG4J2);
  if (!existsSync(join(o.dataDir, 'logs', 'meta.properties'))) {
    o.log(`formatting KRaft storage in ${o.dataDir}`);
    const scram = o.sasl
      ? ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((m) => ['--add-scram', `${m}=[name=${o.sasl!.username},password=${o.sasl!.password}]`])
      : [];
    await runJava(
      [...jvmArgs(o), 'kafka.tools.StorageTool', 'format', '-t', newClusterId(), '-c', config, '--ignore-formatted', ...scram],
      brokerLogFile(o.dataDir),
    );
  }
  return config;
}

/** The broker's status as seen from its data dir and port. */
export interface BrokerStatus {
  running: boolean;
  pid: number | null;
  port: number;
  dataDir: string;
  ready: boolean;
}

/** Reports whether the broker of these options runs and answers. */
export async function brokerStatus(options: BrokerOptions = {}): Promise<BrokerStatus> {
  const o = resolveOptions(options);
  const pid = readPid(o.dataDir);
  const running = pid !== null && isAlive(pid);
  const ready = (await isPortOpen(o.port)) && (await isKafkaReady(`127.0.0.1:${o.port}`));
  return { running, pid: running ? pid : null, port: o.port, dataDir: o.dataDir, ready };
}

/**
 * Starts the broker detached and waits until it serves metadata. Installs Kafka on
 * first use. Returns false when a broker was already running (nothing started).
 */
export async function startBroker(options: BrokerOptions = {}, readyTimeoutMs = 90_000): Promise<boolean> {
  const o = resolveOptions(options);
  const brokers = `127.0.0.1:${o.port}`;
  const existing = readPid(o.dataDir);
  if (existing !== null && isAlive(existing)) {
    await waitReady(brokers, existing, o, readyTimeoutMs);
    return false;
  }
  if (await isPortOpen(o.port)) {
    if (await isKafkaReady(brokers)) {
      o.log(`a Kafka broker already answers on ${brokers}; not starting another`);
      return false;
    }
    throw new Error(`port ${o.port} is taken by something that is not a Kafka broker`);
  }
  await installKafka(o.log);
  const config = await prepareDataDir(o);
  const fd = openSync(brokerLogFile(o.dataDir), 'a');
  // detached: its own process group, so the CLI can exit and Ctrl-C in a terminal
  // running tests does not kill a broker other sessions use.
  const child = spawn('java', [...jvmArgs(o), 'kafka.Kafka', config], { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  if (child.pid === undefined) throw new Error('could not spawn java');
  child.unref();
  writeFileSync(pidFile(o.dataDir), `${child.pid}\n`);
  o.log(`started Kafka broker pid ${child.pid} on ${brokers} (data ${o.dataDir})`);
  await waitReady(brokers, child.pid, o, readyTimeoutMs);
  return true;
}

async function waitReady(brokers: string, pid: number, o: Resolved, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) {
      const tail = existsSync(brokerLogFile(o.dataDir)) ? readFileSync(brokerLogFile(o.dataDir), 'utf8').slice(-3000) : '';
      throw new Error(`Kafka broker (pid ${pid}) exited during startup:\n${tail}`);
    }
    if ((await isPortOpen(o.port)) && (await isKafkaReady(brokers))) {
      o.log(`Kafka ready on ${brokers}`);
      return;
    }
    await sleep(250);
  }
  throw new Error(`Kafka on ${brokers} not ready after ${timeoutMs} ms; see ${brokerLogFile(o.dataDir)}`);
}

/**
 * Stops the broker of these options: SIGTERM for a clean shutdown (flushes logs, so a
 * restart needs no recovery), SIGKILL if it has not exited after `graceMs`.
 */
export async function stopBroker(options: BrokerOptions = {}, graceMs = 20_000): Promise<boolean> {
  const o = resolveOptions(options);
  const pid = readPid(o.dataDir);
  if (pid === null || !isAlive(pid)) {
    rmSync(pidFile(o.dataDir), { force: true });
    return false;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) {
    o.log(`broker pid ${pid} ignored SIGTERM for ${graceMs} ms; killing`);
    process.kill(pid, 'SIGKILL');
    while (isAlive(pid)) await sleep(50);
  }
  rmSync(pidFile(o.dataDir), { force: true });
  o.log(`stopped Kafka broker pid ${pid}`);
  return true;
}

/**
 * Creates every topic the forwarder writes to, if missing (idempotent). Existing
 * topics are left as they are: partition counts only grow by an explicit decision.
 */
export async function ensureTopics(brokers: string, options: TopicOptions = {}): Promise<string[]> {
  const admin = new Kafka({ clientId: 'edge-topics', brokers: brokers.split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const specs = topicSpecs(options);
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((spec) => !existing.has(spec.topic));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((spec) => ({
          topic: spec.topic,
          numPartitions: spec.partitions,
          replicationFactor: spec.replicationFactor,
          configEntries: Object.entries(spec.config).map(([name, value]) => ({ name, value })),
        })),
      });
    }
    return missing.map((spec) => spec.topic);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Programmatic entry for `npm start` and tests: a running, ready broker with every
 * topic in place. `stop()` only stops a broker this call started.
 */
export async function ensureBroker(options: BrokerOptions & { topics?: TopicOptions } = {}): Promise<BrokerHandle> {
  const o = resolveOptions(options);
  const started = await startBroker(options);
  const brokers = `127.0.0.1:${o.port}`;
  await ensureTopics(brokers, options.topics);
  return {
    brokers,
    port: o.port,
    dataDir: o.dataDir,
    started,
    stop: async () => {
      if (started) await stopBroker(options);
    },
  };
}
