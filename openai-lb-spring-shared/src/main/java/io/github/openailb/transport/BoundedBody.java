package io.github.openailb.transport;

import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.function.Consumer;
import java.util.function.Supplier;

import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Operators;

import org.springframework.core.io.buffer.DataBuffer;

/**
 * A backend's answer body as the caller reads it: once (WebClient subscribes again to release a
 * body, and that later subscriber must find it empty rather than fail, which would blame the
 * backend), and within what is left of the request's time: when the deadline passes first the
 * body is cancelled (its connection closes) and ends in an error. One operator with one timer,
 * where a chain of Reactor operators (defer, takeUntilOther, concatWith, doOnError) would add a
 * hop to every chunk.
 */
final class BoundedBody extends Flux<DataBuffer> {

	private static final AtomicIntegerFieldUpdater<BoundedBody> READ = AtomicIntegerFieldUpdater
		.newUpdater(BoundedBody.class, "read");

	private final Flux<DataBuffer> source;

	private final long deadline;

	private final Supplier<? extends Throwable> expired;

	private final Consumer<Throwable> broke;

	private volatile int read;

	/**
	 * Bound a body.
	 * @param source the body, whose first chunk may already have been taken and replayed
	 * @param deadline the {@link System#nanoTime()} by which it must end
	 * @param expired the error that ends a body past its deadline
	 * @param broke told of every error that ends the body, the deadline's included
	 */
	BoundedBody(Flux<DataBuffer> source, long deadline, Supplier<? extends Throwable> expired,
			Consumer<Throwable> broke) {
		this.source = source;
		this.deadline = deadline;
		this.expired = expired;
		this.broke = broke;
	}

	@Override
	public void subscribe(CoreSubscriber<? super DataBuffer> actual) {
		if (!READ.compareAndSet(this, 0, 1)) {
			Operators.complete(actual);
			return;
		}
		this.source.subscribe(new Reader(actual, this));
	}

	private static final class Reader extends TimedSubscriber<DataBuffer> {

		private final BoundedBody body;

		Reader(CoreSubscriber<? super DataBuffer> actual, BoundedBody body) {
			// serialized: the deadline's error may come from another thread than the chunks
			super(Operators.serialize(actual));
			this.body = body;
		}

		@Override
		long nanos() {
			return this.body.deadline - System.nanoTime();
		}

		@Override
		void expired() {
			Throwable error = this.body.expired.get();
			this.body.broke.accept(error);
			this.actual.onError(error);
		}

		@Override
		public void onNext(DataBuffer buffer) {
			this.actual.onNext(buffer);
		}

		@Override
		public void onError(Throwable error) {
			if (end()) {
				this.body.broke.accept(error);
				this.actual.onError(error);
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
