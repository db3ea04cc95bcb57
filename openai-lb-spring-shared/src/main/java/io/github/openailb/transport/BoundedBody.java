package io.github.openailb.transport;

import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.function.Consumer;
import java.util.function.Supplier;

import io.netty.util.Timeout;
import io.netty.util.TimerTask;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Operators;
import reactor.core.scheduler.Schedulers;
import reactor.util.context.Context;

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

	private static final class Reader implements CoreSubscriber<DataBuffer>, Subscription, TimerTask, Runnable {

		private static final AtomicIntegerFieldUpdater<Reader> ENDED = AtomicIntegerFieldUpdater.newUpdater(Reader.class,
				"ended");

		/** Serialized: the deadline's error may come from another thread than the chunks. */
		private final CoreSubscriber<? super DataBuffer> actual;

		private final BoundedBody body;

		private Subscription upstream;

		private volatile Timeout timer;

		private volatile int ended;

		Reader(CoreSubscriber<? super DataBuffer> actual, BoundedBody body) {
			this.actual = Operators.serialize(actual);
			this.body = body;
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
				Timeout armed = Deadlines.arm(this, this.body.deadline - System.nanoTime());
				this.timer = armed;
				if (this.ended != 0) {
					armed.cancel();
				}
			}
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

		/** The deadline passed: hand on, off the wheel's thread. */
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
				Throwable error = this.body.expired.get();
				this.body.broke.accept(error);
				this.actual.onError(error);
			}
		}

		/** Exactly one ending: completion, error, cancellation or the deadline; disarms the timer. */
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
