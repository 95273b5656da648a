/**
 * Fetches Apache Kafka's jars from Maven Central once (via `mvn`) into `.kafka/libs`.
 * No tarball download or Docker: Maven is the one channel CI is guaranteed to reach,
 * and its local repository (~/.m2) makes later fetches work offline.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Kafka release the local broker runs (latest 4.x on Maven Central when pinned). */
export const KAFKA_VERSION = '4.4.0';
/** Log4j2 is Kafka 4's logging backend; without a binding the broker logs nothing. */
const LOG4J_VERSION = '2.24.3';
/** Kafka's own pom pins slf4j 1.7, which cannot see the slf4j 2 provider of log4j2. */
const SLF4J_VERSION = '2.0.17';
/** Changes whenever the dependency set changes, so a stale `.kafka/libs` is refreshed. */
const INSTALL_ID = `kafka-${KAFKA_VERSION}+log4j-${LOG4J_VERSION}+slf4j-${SLF4J_VERSION}`;

/** Repository root (this file lives in scripts/kafka). */
export const ROOT = resolve(import.meta.dirname, '..', '..');
/** Git-ignored home of everything Kafka-related that is generated locally. */
export const KAFKA_HOME = process.env.KAFKA_HOME ?? join(ROOT, '.kafka');
/** Where the jars land; the JVM classpath is `<LIBS_DIR>/*`. */
export const LIBS_DIR = join(KAFKA_HOME, 'libs');
const MARKER = join(LIBS_DIR, '.installed');

function pom(): string {
  const dep = (g: string, a: string, v: string): string =>
    `<dependency><groupId>${g}</groupId><artifactId>${a}</artifactId><version>${v}</version></dependency>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.edge</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    ${dep('org.apache.kafka', 'kafka_2.13', KAFKA_VERSION)}
    ${dep('org.slf4j', 'slf4j-api', SLF4J_VERSION)}
    ${dep('org.apache.logging.log4j', 'log4j-slf4j2-impl', LOG4J_VERSION)}
    ${dep('org.apache.logging.log4j', 'log4j-core', LOG4J_VERSION)}
  </dependencies>
</project>
`;
}

/** True when the jars of {@link KAFKA_VERSION} are already in place. */
export function isInstalled(): boolean {
  return existsSync(MARKER) && readFileSync(MARKER, 'utf8').trim() === INSTALL_ID;
}

/**
 * Makes sure `.kafka/libs` holds Kafka's runtime classpath. Idempotent and cheap when
 * already installed; the first call takes a minute or two (Maven downloads ~45 MB).
 * Jars are copied into a private temp dir and renamed into place, so concurrent
 * installs (parallel test runs) never see, or delete under a running JVM, a half-filled dir.
 */
export async function installKafka(log: (line: string) => void = () => {}): Promise<string> {
  if (isInstalled()) return LIBS_DIR;
  mkdirSync(KAFKA_HOME, { recursive: true });
  const staging = join(KAFKA_HOME, `libs.tmp-${process.pid}-${Date.now()}`);
  mkdirSync(staging, { recursive: true });
  const pomPath = join(staging, 'pom.xml');
  writeFileSync(pomPath, pom());
  log(`fetching Apache Kafka ${KAFKA_VERSION} jars with mvn into ${LIBS_DIR} (once)`);
  const args = ['-q', '-B', '-f', pomPath, 'dependency:copy-dependencies', `-DoutputDirectory=${staging}`, '-DincludeScope=runtime'];
  try {
    try {
      // Offline first: with a warm ~/.m2 this needs no network at all.
      await run('mvn', ['-o', ...args], { maxBuffer: 32 * 1024 * 1024 });
    } catch {
      try {
        await run('mvn', args, { maxBuffer: 32 * 1024 * 1024 });
      } catch (error) {
        const detail = error instanceof Error && 'stdout' in error ? String((error as { stdout: unknown }).stdout) : '';
        throw new Error(`mvn could not fetch Kafka ${KAFKA_VERSION}: ${String(error)}\n${detail.slice(-4000)}`, { cause: error });
      }
    }
    rmSync(pomPath);
    const jars = readdirSync(staging).filter((f) => f.endsWith('.jar'));
    if (!jars.some((f) => f.startsWith('kafka_2.13-'))) throw new Error(`mvn finished but no kafka jar in ${staging}`);
    writeFileSync(join(staging, '.installed'), `${INSTALL_ID}\n`);
    if (isInstalled()) return LIBS_DIR; // Another process finished first.
    // A stale install (other versions) is moved aside, not deleted: a JVM may still use it.
    if (existsSync(LIBS_DIR)) renameSync(LIBS_DIR, join(KAFKA_HOME, `libs.old-${process.pid}-${Date.now()}`));
    renameSync(staging, LIBS_DIR);
    log(`installed ${jars.length} jars`);
    return LIBS_DIR;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
