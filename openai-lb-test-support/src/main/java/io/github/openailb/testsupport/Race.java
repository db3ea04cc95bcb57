package io.github.openailb.testsupport;

import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs two actions at (nearly) the same moment on two threads, round after round: the calling
 * thread and one helper that spins on a shared round counter, so a round costs microseconds and
 * the actions really overlap. Each side first spins a random number of iterations, up to a bound
 * drawn per round from 4 to 1,024: which side is ahead, and by how much, depends on the JIT, the
 * actions and the machine's load, so every scale of head start is tried and both orders and the
 * interleavings in between come up whatever the machine. Close it to stop the helper.
 */
public final class Race implements AutoCloseable {

	/** The round prepared: the helper may leave its (possibly slow) idle wait. */
	private final AtomicLong started = new AtomicLong();

	/** The round the helper is spinning hot for. */
	private final AtomicLong arrived = new AtomicLong();

	/** The round to run now: both sides spin hot on it, so they see it within nanoseconds. */
	private final AtomicLong go = new AtomicLong();

	private final AtomicLong finished = new AtomicLong();

	private final SplittableRandom random;


	private final Thread helper;

	private volatile Runnable second;

	private volatile int secondJitter;

	private volatile Throwable failure;

	private volatile boolean closed;

	/**
	 * Start the helper thread.
	 * @param seed seeds the random head starts
	 */
	public Race(long seed) {
		this.random = new SplittableRandom(seed);
		this.helper = new Thread(this::help, "race-helper");
		this.helper.setDaemon(true);
		this.helper.start();
	}

	/**
	 * Run {@code first} on this thread and {@code second} on the helper, at the same time, and
	 * return once both are done; a failure of {@code second} is thrown here.
	 * @param first one action
	 * @param second the other
	 */
	public void run(Runnable first, Runnable second) {
		this.second = second;
		int bound = 4 << (2 * this.random.nextInt(5));
		this.secondJitter = this.random.nextInt(bound);
		int firstJitter = this.random.nextInt(bound);
		long round = this.started.incrementAndGet();
		int spins = 0;
		while (this.arrived.get() != round) {
			spins = pause(spins);
		}
		this.go.set(round);
		spin(firstJitter);
		first.run();
		spins = 0;
		while (this.finished.get() != round) {
			spins = pause(spins);
		}
		Throwable failed = this.failure;
		if (failed != null) {
			throw new AssertionError("the racing action failed", failed);
		}
	}

	@Override
	public void close() throws InterruptedException {
		this.closed = true;
		this.helper.join(10_000);
	}

	private void help() {
		long seen = 0;
		int spins = 0;
		while (!this.closed) {
			long round = this.started.get();
			if (round == seen) {
				spins = pause(spins);
				continue;
			}
			spins = 0;
			seen = round;
			this.arrived.set(round);
			while (this.go.get() != round) {
				Thread.onSpinWait();
			}
			spin(this.secondJitter);
			try {
				this.second.run();
			}
			catch (Throwable ex) {
				this.failure = ex;
			}
			this.finished.set(round);
		}
	}

	private static void spin(int times) {
		for (int i = 0; i < times; i++) {
			Thread.onSpinWait();
		}
	}

	/** Spin briefly, then give the core away: the build machine is shared. */
	private static int pause(int spins) {
		if (spins < 1_000) {
			Thread.onSpinWait();
		}
		else {
			Thread.yield();
		}
		return spins + 1;
	}

}
