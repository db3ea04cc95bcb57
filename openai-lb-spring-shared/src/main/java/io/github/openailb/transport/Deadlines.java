package io.github.openailb.transport;

import java.util.concurrent.TimeUnit;

import io.netty.util.HashedWheelTimer;
import io.netty.util.Timeout;
import io.netty.util.TimerTask;
import io.netty.util.concurrent.DefaultThreadFactory;

/**
 * The timers for the bounds every balanced request carries (the attempt's response timeout, the
 * request's {@code max-duration} over a streamed body), nearly all cancelled long before they
 * fire. {@code Mono.delay} puts each on a parallel-scheduler queue under a lock and wakes that
 * thread whenever the queue was empty, which is every call when calls come one at a time; here
 * arming and cancelling is a lock-free queue offer on one wheel that ticks every
 * {@value #TICK_MILLIS} ms. A task that fires hands its work to Reactor's parallel scheduler, so
 * what follows (a failover, an error) never holds up the wheel; the OpenAI SDK's blocking attempts
 * use it to bound their OkHttp calls.
 */
public final class Deadlines {

	/** How late a timer may fire: a bound of seconds does not need better. */
	static final long TICK_MILLIS = 10;

	/** One for the JVM (its thread is a daemon), never stopped: no leak tracking for it. */
	private static final HashedWheelTimer WHEEL = new HashedWheelTimer(
			new DefaultThreadFactory("openai-lb-timer", true), TICK_MILLIS, TimeUnit.MILLISECONDS, 512, false);

	private Deadlines() {
	}

	/**
	 * Arm a timer on the wheel.
	 * @param task runs on the wheel's thread when due: must only hand its work on, or do no more
	 * than something as quick (cancelling an OkHttp call closes its socket)
	 * @param nanos the delay in nanoseconds
	 * @return the timer, to cancel
	 */
	public static Timeout arm(TimerTask task, long nanos) {
		return WHEEL.newTimeout(task, Math.max(0, nanos), TimeUnit.NANOSECONDS);
	}

}
