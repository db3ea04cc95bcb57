package io.github.openailb.transport;

import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.function.Supplier;

import io.netty.util.Timeout;
import io.netty.util.TimerTask;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;
import reactor.core.scheduler.Schedulers;
import reactor.util.context.Context;

/**
 * An attempt's answer within its time limit, else an error (and the attempt cancelled, which
 * closes its connection). What {@code Mono.timeout} does with four subscribers and two more
 * publishers per attempt, with one subscriber and one timer: a {@code Mono} has one value, so
 * whichever ends it first (value, completion, error, cancellation or the timer) is the only one
 * heard.
 */
final class WithinLimit<T> extends Mono<T> {

	private final Mono<T> source;

	private final long nanos;

	private final Supplier<? extends Throwable> expired;

	/**
	 * Bound a {@code Mono}.
	 * @param source the attempt
	 * @param nanos its limit, in nanoseconds
	 * @param expired the error when the limit passes first
	 */
	WithinLimit(Mono<T> source, long nanos, Supplier<? extends Throwable> expired) {
		this.source = source;
		this.nanos = nanos;
		this.expired = expired;
	}

	@Override
	public void subscribe(CoreSubscriber<? super T> actual) {
		this.source.subscribe(new Bound<>(actual, this.nanos, this.expired));
	}

	private static final class Bound<T> implements CoreSubscriber<T>, Subscription, TimerTask, Runnable {

		@SuppressWarnings("rawtypes")
		private static final AtomicIntegerFieldUpdater<Bound> ENDED = AtomicIntegerFieldUpdater.newUpdater(Bound.class,
				"ended");

		private final CoreSubscriber<? super T> actual;

		private final long nanos;

		private final Supplier<? extends Throwable> expired;

		private Subscription upstream;

		private volatile Timeout timer;

		private volatile int ended;

		Bound(CoreSubscriber<? super T> actual, long nanos, Supplier<? extends Throwable> expired) {
			this.actual = actual;
			this.nanos = nanos;
			this.expired = expired;
		}

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
					Timeout armed = Deadlines.arm(this, this.nanos);
					this.timer = armed;
					if (this.ended != 0) {
						armed.cancel();
					}
				}
			}
		}

		@Override
		public void onNext(T value) {
			if (end()) {
				this.actual.onNext(value);
				this.actual.onComplete();
			}
			else {
				Operators.onDiscard(value, this.actual.currentContext());
			}
		}

		@Override
		public void onError(Throwable error) {
			if (end()) {
				this.actual.onError(error);
			}
			else {
				Operators.onErrorDropped(error, this.actual.currentContext());
			}
		}

		@Override
		public void onComplete() {
			if (end()) {
				this.actual.onComplete();
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

		/** The limit passed: hand on, off the wheel's thread. */
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
				this.actual.onError(this.expired.get());
			}
		}

		/** Exactly one ending; disarms the timer. */
		private boolean end() {
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

}
