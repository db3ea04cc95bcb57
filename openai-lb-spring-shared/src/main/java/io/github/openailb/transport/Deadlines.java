package io.github.openailb.transport;

import java.util.concurrent.TimeUnit;

import io.netty.util.HashedWheelTimer;
import io.netty.util.Timeout;
import io.netty.util.TimerTask;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Timers for the bounds every balanced request carries (the attempt's response timeout, the
 * request's {@code max-duration} over a streamed body), nearly all cancelled long before they
 * fire. {@code Mono.delay} puts each on a parallel-scheduler queue under a lock and wakes that
 * thread whenever the queue was empty, which is every call when calls come one at a time; here
 * arming and cancelling is a lock-free queue offer on one wheel that ticks every
 * {@value #TICK_MILLIS} ms. A timer that fires is handed to Reactor's parallel scheduler, so the
 * work that follows (a failover, an error) never holds up the wheel.
 */
final class Deadlines {

	/** How late a timer may fire: a bound of seconds does not need better. */
	static final long TICK_MILLIS = 10;

	private static final HashedWheelTimer WHEEL = new HashedWheelTimer(
			new DefaultThreadFactory("openai-lb-timer", true), TICK_MILLIS, TimeUnit.MILLISECONDS, 512);

	private Deadlines() {
	}

	/**
	 * Arm a timer on the wheel.
	 * @param task runs on the wheel's thread when due: must only hand its work on
	 * @param nanos the delay in nanoseconds
	 * @return the timer, to cancel
	 */
	static Timeout arm(TimerTask task, long nanos) {
		return WHEEL.newTimeout(task, Math.max(0, nanos), TimeUnit.NANOSECONDS);
	}

	/**
	 * A {@code Mono} that emits {@code 0} once the time has passed, like {@code Mono.delay}.
	 * @param nanos the delay in nanoseconds
	 * @return the timer, armed on subscription and disarmed on cancellation
	 */
	static Mono<Long> after(long nanos) {
		return new After(Math.max(0, nanos));
	}

	private static final class After extends Mono<Long> {

		private final long nanos;

		After(long nanos) {
			this.nanos = nanos;
		}

		@Override
		public void subscribe(CoreSubscriber<? super Long> actual) {
			Tick tick = new Tick(actual);
			actual.onSubscribe(tick);
			tick.arm(this.nanos);
		}

	}

	private static final class Tick implements Subscription, TimerTask, Runnable {

		private final CoreSubscriber<? super Long> actual;

		private volatile Timeout timeout;

		private volatile boolean cancelled;

		Tick(CoreSubscriber<? super Long> actual) {
			this.actual = actual;
		}

		void arm(long nanos) {
			if (this.cancelled) {
				return;
			}
			Timeout armed = Deadlines.arm(this, nanos);
			this.timeout = armed;
			if (this.cancelled) {
				armed.cancel();
			}
		}

		@Override
		public void request(long n) {
			// one value, sent when due (as Mono.delay does, to subscribers that request)
		}

		@Override
		public void cancel() {
			this.cancelled = true;
			Timeout armed = this.timeout;
			if (armed != null) {
				armed.cancel();
			}
		}

		@Override
		public void run(Timeout expired) {
			if (!this.cancelled) {
				Schedulers.parallel().schedule(this);
			}
		}

		@Override
		public void run() {
			if (!this.cancelled) {
				this.actual.onNext(0L);
				this.actual.onComplete();
			}
		}

	}

}
