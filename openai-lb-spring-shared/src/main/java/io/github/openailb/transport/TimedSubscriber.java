package io.github.openailb.transport;

import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

import io.netty.util.Timeout;
import io.netty.util.TimerTask;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Operators;
import reactor.core.scheduler.Schedulers;
import reactor.util.context.Context;

/**
 * A subscriber between a source and its caller that ends exactly once, by whichever comes first:
 * the source's end, the caller's cancel, or a timer on the {@link Deadlines} wheel (which cancels
 * the source and hands the caller an error). Subclasses say what passes on and what the timer's
 * end is; each passes on a signal only when {@link #end()} returned {@code true}, so that no
 * signal follows the first ending.
 *
 * @param <T> the type of the values
 */
abstract class TimedSubscriber<T> implements CoreSubscriber<T>, Subscription, TimerTask, Runnable {

	@SuppressWarnings("rawtypes")
	private static final AtomicIntegerFieldUpdater<TimedSubscriber> ENDED = AtomicIntegerFieldUpdater
		.newUpdater(TimedSubscriber.class, "ended");

	final CoreSubscriber<? super T> actual;

	private Subscription upstream;

	private volatile Timeout timer;

	private volatile int ended;

	TimedSubscriber(CoreSubscriber<? super T> actual) {
		this.actual = actual;
	}

	/** How long from subscription until the timer ends it, in nanoseconds. */
	abstract long nanos();

	/** The timer ended it first: the source is cancelled already; tell the caller. */
	abstract void expired();

	@Override
	public Context currentContext() {
		return this.actual.currentContext();
	}

	@Override
	public void onSubscribe(Subscription subscription) {
		if (Operators.validate(this.upstream, subscription)) {
			this.upstream = subscription;
			this.actual.onSubscribe(this);
			if (this.ended == 0) {
				Timeout armed = Deadlines.arm(this, nanos());
				this.timer = armed;
				// ended while arming: the end found no timer to cancel
				if (this.ended != 0) {
					armed.cancel();
				}
			}
		}
	}

	@Override
	public void request(long n) {
		this.upstream.request(n);
	}

	@Override
	public void cancel() {
		if (end()) {
			this.upstream.cancel();
		}
	}

	/** The time is up: hand on, off the wheel's thread. */
	@Override
	public void run(Timeout due) {
		if (this.ended == 0) {
			Schedulers.parallel().schedule(this);
		}
	}

	@Override
	public void run() {
		if (end()) {
			this.upstream.cancel();
			expired();
		}
	}

	/** Claim the one ending, disarming the timer; {@code false} when something ended it before. */
	final boolean end() {
		if (!ENDED.compareAndSet(this, 0, 1)) {
			return false;
		}
		Timeout armed = this.timer;
		if (armed != null) {
			armed.cancel();
		}
		return true;
	}

}
