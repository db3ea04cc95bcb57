package io.github.openailb.benchmarks;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Closed-loop load at a fixed concurrency: each of N callers sends its next request as soon as
 * the previous one is answered, for a fixed time. Latencies go into an HdrHistogram.
 */
final class LoadDriver implements AutoCloseable {

	private final int concurrency;

	private final ExecutorService threads;

	LoadDriver(int concurrency) {
		this.concurrency = concurrency;
		this.threads = Executors.newFixedThreadPool(concurrency, (task) -> {
			Thread thread = new Thread(task, "caller");
			thread.setDaemon(true);
			return thread;
		});
	}

	/**
	 * What one run measured; {@code cpuNanos} is the CPU time the whole process spent meanwhile
	 * (callers, clients, stub), which a busy machine's other tenants do not inflate as they do the
	 * throughput.
	 */
	record Result(long calls, double seconds, Histogram latency, long cpuNanos) {

		double throughput() {
			return this.calls / this.seconds;
		}

		/** The process's CPU time per call, in microseconds. */
		double cpuMicrosPerCall() {
			return this.cpuNanos / 1000.0 / this.calls;
		}

		/** A latency percentile in microseconds. */
		double micros(double percentile) {
			return this.latency.getValueAtPercentile(percentile) / 1000.0;
		}

	}

	/** A blocking call, one per caller thread. */
	@FunctionalInterface
	interface BlockingCall {

		void call() throws Exception;

	}

	Result blocking(Duration duration, BlockingCall call) throws Exception {
		Recorder recorder = new Recorder(3);
		AtomicLong calls = new AtomicLong();
		long cpu = processCpuNanos();
		long start = System.nanoTime();
		long deadline = start + duration.toNanos();
		List<Future<?>> callers = new ArrayList<>();
		for (int i = 0; i < this.concurrency; i++) {
			callers.add(this.threads.submit(() -> {
				long now;
				while ((now = System.nanoTime()) < deadline) {
					call.call();
					recorder.recordValue(System.nanoTime() - now);
					calls.incrementAndGet();
				}
				return null;
			}));
		}
		for (Future<?> caller : callers) {
			caller.get();
		}
		return new Result(calls.get(), (System.nanoTime() - start) / 1e9, recorder.getIntervalHistogram(),
				processCpuNanos() - cpu);
	}

	Result reactive(Duration duration, Supplier<Mono<?>> call) {
		Recorder recorder = new Recorder(3);
		AtomicLong calls = new AtomicLong();
		long cpu = processCpuNanos();
		long start = System.nanoTime();
		long deadline = start + duration.toNanos();
		Flux.range(0, this.concurrency).flatMap((caller) -> Mono.defer(() -> {
			long sent = System.nanoTime();
			return call.get().doOnSuccess((answer) -> {
				recorder.recordValue(System.nanoTime() - sent);
				calls.incrementAndGet();
			});
		}).repeat(() -> System.nanoTime() < deadline), this.concurrency).blockLast();
		return new Result(calls.get(), (System.nanoTime() - start) / 1e9, recorder.getIntervalHistogram(),
				processCpuNanos() - cpu);
	}

	private static long processCpuNanos() {
		return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
			.getProcessCpuTime();
	}

	@Override
	public void close() {
		this.threads.shutdownNow();
	}

}
