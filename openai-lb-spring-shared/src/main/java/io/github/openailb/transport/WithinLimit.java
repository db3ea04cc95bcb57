package io.github.openailb.transport;

import java.util.function.Supplier;

import reactor.core.CoreSubscriber;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;

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

	private static final class Bound<T> extends TimedSubscriber<T> {

		private final long nanos;

		private final Supplier<? extends Throwable> expired;

		Bound(CoreSubscriber<? super T> actual, long nanos, Supplier<? extends Throwable> expired) {
			super(actual);
			this.nanos = nanos;
			this.expired = expired;
		}

		@Override
		long nanos() {
			return this.nanos;
		}

		@Override
		void expired() {
			this.actual.onError(this.expired.get());
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

	}

}
