package io.github.openailb.transport;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.function.Function;

import io.github.openailb.auth.AuthHeader;
import io.github.openailb.core.Exchange;
import io.github.openailb.core.NoBackendAnsweredException;
import io.github.openailb.core.Outcome;
import io.github.openailb.core.Step;
import io.netty.util.Timeout;
import io.netty.util.TimerTask;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;
import reactor.core.scheduler.Schedulers;
import reactor.util.context.Context;

import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.client.reactive.ClientHttpRequest;
import org.springframework.http.client.reactive.ClientHttpResponse;
import org.springframework.http.client.reactive.ClientHttpResponseDecorator;

/**
 * One balanced request as a {@code Mono}: the attempt loop written out by hand. A request, its
 * attempts and its answer body are three objects ({@link Call}, {@link Try}, {@link Reader})
 * that send, judge, fail over and bound each step with one timer, where composing Reactor
 * operators per attempt cost some 2 KB and several hops per request. Each object ends exactly
 * once, by whichever comes first: its own outcome, the caller's cancel or its timer.
 */
final class BalancedCall extends Mono<ClientHttpResponse> {

	private static final byte[] EMPTY = new byte[0];

	/** Error answers are read to find retry hints and to be returned if they are the last. */
	private static final int MAX_ERROR_BODY = 256 * 1024;

	private final BalancingClientHttpConnector connector;

	private final HttpMethod method;

	private final String pathAndQuery;

	private final HttpHeaders headers;

	private final byte[] body;

	private final CapturedRequest captured;

	private final Mono<Void> written;

	/** A request whose headers and body are known. */
	BalancedCall(BalancingClientHttpConnector connector, HttpMethod method, String pathAndQuery, HttpHeaders headers,
			byte[] body) {
		this(connector, method, pathAndQuery, headers, body, null, null);
	}

	/** A request that WebClient writes into {@code captured} when {@code written} is subscribed. */
	BalancedCall(BalancingClientHttpConnector connector, HttpMethod method, String pathAndQuery,
			CapturedRequest captured, Mono<Void> written) {
		this(connector, method, pathAndQuery, null, null, captured, written);
	}

	private BalancedCall(BalancingClientHttpConnector connector, HttpMethod method, String pathAndQuery,
			HttpHeaders headers, byte[] body, CapturedRequest captured, Mono<Void> written) {
		this.connector = connector;
		this.method = method;
		this.pathAndQuery = pathAndQuery;
		this.headers = headers;
		this.body = body;
		this.captured = captured;
		this.written = written;
	}

	@Override
	public void subscribe(CoreSubscriber<? super ClientHttpResponse> actual) {
		actual.onSubscribe(new Call(this, actual));
	}

	/**
	 * A request's progress and the caller's subscription: starts on the first request, walks the
	 * engine's steps, and hands the caller one answer or one error. {@link #running} is what a
	 * cancel must stop now: the capture, an attempt or a wait.
	 */
	static final class Call implements Subscription, CoreSubscriber<Void>, TimerTask, Runnable {

		private static final AtomicIntegerFieldUpdater<Call> STATE = AtomicIntegerFieldUpdater.newUpdater(Call.class,
				"state");

		private static final int NEW = 0;

		private static final int STARTED = 1;

		private static final int DONE = 2;

		final BalancingClientHttpConnector connector;

		final CoreSubscriber<? super ClientHttpResponse> actual;

		final BalancedCall request;

		HttpHeaders headers;

		byte[] body;

		Exchange exchange;

		/** {@link System#nanoTime()} by which the request, body included, must end. */
		long deadline;

		ClientHttpResponse lastAnswer;

		/** The attempt under way, for the engine to release if the caller cancels. */
		volatile Step.Attempt current;

		private volatile Object running;

		private volatile int state;

		Call(BalancedCall request, CoreSubscriber<? super ClientHttpResponse> actual) {
			this.connector = request.connector;
			this.request = request;
			this.actual = actual;
		}

		HttpMethod method() {
			return this.request.method;
		}

		String pathAndQuery() {
			return this.request.pathAndQuery;
		}

		@Override
		public Context currentContext() {
			return this.actual.currentContext();
		}

		@Override
		public void request(long n) {
			if (Operators.validate(n) && STATE.compareAndSet(this, NEW, STARTED)) {
				if (this.request.written != null) {
					this.request.written.subscribe(this);
				}
				else {
					begin(this.request.headers, this.request.body);
				}
			}
		}

		/** The capture is under way: a cancel stops it. */
		@Override
		public void onSubscribe(Subscription subscription) {
			track(subscription);
			subscription.request(Long.MAX_VALUE);
		}

		@Override
		public void onNext(Void nothing) {
		}

		@Override
		public void onError(Throwable error) {
			fail(error);
		}

		/** WebClient wrote the request into the capture. */
		@Override
		public void onComplete() {
			begin(this.request.captured.writtenHeaders(), this.request.captured.body());
		}

		private void begin(HttpHeaders headers, byte[] body) {
			long max = this.connector.config().maxRequestBody();
			if (body.length > max) {
				fail(new RequestTooLargeException(body.length, max));
				return;
			}
			this.headers = headers;
			this.body = body;
			this.deadline = System.nanoTime() + this.connector.config().maxDuration().toNanos();
			this.exchange = this.connector.balancer().begin(method().name(), pathAndQuery(), body);
			next();
		}

		/** Take the engine's next step: an attempt, a wait, or the end. */
		void next() {
			if (this.state == DONE) {
				return;
			}
			long left = this.deadline - System.nanoTime();
			Step step = (left > 0) ? this.exchange.next() : this.exchange.giveUpNow();
			if (step instanceof Step.Attempt attempt) {
				new Try(this, attempt, left).start();
			}
			else if (step instanceof Step.Wait wait) {
				// never past the request's deadline: the next step then ends the request
				track(Deadlines.arm(this, Math.min(wait.delay().toNanos(), left)));
			}
			else {
				end((Step.GiveUp) step);
			}
		}

		private void end(Step.GiveUp end) {
			if (end.ending() == Step.Ending.LAST_ANSWER) {
				deliver(this.lastAnswer);
				return;
			}
			ClientHttpResponse answer = BalancingClientHttpConnector.answerFor(end);
			if (answer != null) {
				deliver(answer);
			}
			else {
				fail(new NoBackendAnsweredException(end.reason()));
			}
		}

		/** The wait before the next step is over (on the wheel's thread: hand on). */
		@Override
		public void run(Timeout due) {
			if (this.state != DONE) {
				Schedulers.parallel().schedule(this);
			}
		}

		@Override
		public void run() {
			next();
		}

		/** An attempt ended without an answer for the caller. */
		void attemptEnded() {
			this.current = null;
			next();
		}

		/**
		 * Hand the caller its answer.
		 * @return {@code false} when the caller cancelled first, and the answer is the caller's to drop
		 */
		boolean deliver(ClientHttpResponse response) {
			if (!STATE.compareAndSet(this, STARTED, DONE)) {
				return false;
			}
			this.actual.onNext(response);
			this.actual.onComplete();
			return true;
		}

		private void fail(Throwable error) {
			if (STATE.compareAndSet(this, STARTED, DONE)) {
				this.actual.onError(error);
			}
			else {
				Operators.onErrorDropped(error, currentContext());
			}
		}

		/** Remember what is under way; stop it at once if the caller cancelled meanwhile. */
		void track(Object work) {
			this.running = work;
			if (this.state == DONE) {
				stop(work);
			}
		}

		@Override
		public void cancel() {
			if (STATE.getAndSet(this, DONE) == DONE) {
				return;
			}
			stop(this.running);
			if (this.exchange != null) {
				this.exchange.abandoned(this.current);
			}
		}

		private static void stop(Object work) {
			if (work instanceof Try attempt) {
				attempt.cancel();
			}
			else if (work instanceof Subscription subscription) {
				subscription.cancel();
			}
			else if (work instanceof Timeout timeout) {
				timeout.cancel();
			}
		}

	}

	/**
	 * Something that ends once, by its outcome, a cancel or its timer on the {@link Deadlines}
	 * wheel (whose thread only hands the timer's end on to Reactor's parallel scheduler).
	 */
	abstract static class EndsOnce implements TimerTask, Runnable {

		@SuppressWarnings("rawtypes")
		private static final AtomicIntegerFieldUpdater<EndsOnce> ENDED = AtomicIntegerFieldUpdater
			.newUpdater(EndsOnce.class, "ended");

		private volatile Timeout timer;

		private volatile int ended;

		/** Arm the timer; disarmed if it ended meanwhile. */
		final void arm(long nanos) {
			Timeout armed = Deadlines.arm(this, nanos);
			this.timer = armed;
			if (this.ended != 0) {
				armed.cancel();
			}
		}

		/** Claim the one ending, disarming the timer; {@code false} when something ended it before. */
		final boolean end() {
			if (!claim()) {
				return false;
			}
			disarm();
			onEnd();
			return true;
		}

		/** Claim the one ending and leave the timer armed, to bound what follows. */
		final boolean claim() {
			return ENDED.compareAndSet(this, 0, 1);
		}

		final void disarm() {
			Timeout armed = this.timer;
			if (armed != null) {
				armed.cancel();
			}
		}

		/** It ended, by whichever end came first. */
		void onEnd() {
		}

		final boolean ended() {
			return this.ended != 0;
		}

		/** Whatever it finds, a timer's end is judged off the wheel's thread. */
		@Override
		public final void run(Timeout due) {
			Schedulers.parallel().schedule(this);
		}

		@Override
		public final void run() {
			if (end()) {
				expired();
			}
			else {
				firedLate();
			}
		}

		/** The timer fired after something else ended it. */
		void firedLate() {
		}

		/** The timer ended it first. */
		abstract void expired();

	}

	/**
	 * One attempt: sent with the backend's credential, bounded by the response timeout (or what is
	 * left of the request's time, if less) until its answer is judged, which for a success means
	 * until the body's first byte arrived, so that a stream that stalls at once still fails over.
	 */
	static final class Try extends EndsOnce
			implements CoreSubscriber<ClientHttpResponse>, Function<ClientHttpRequest, Mono<Void>> {

		private final Call call;

		private final Step.Attempt attempt;

		private final long limit;

		private final boolean requestBound;

		/** What is being read for this attempt: the answer, then its body. */
		private volatile Subscription upstream;

		private boolean answered;

		/** The success handed on, whose body the attempt's timer goes on to bound. */
		private volatile Reader body;

		/** The backend's credential for this attempt, once known. */
		AuthHeader auth;

		Try(Call call, Step.Attempt attempt, long nanosLeft) {
			this.call = call;
			this.attempt = attempt;
			long responseTimeout = call.connector.config().responseTimeout().toNanos();
			this.requestBound = nanosLeft < responseTimeout;
			this.limit = this.requestBound ? nanosLeft : responseTimeout;
		}

		void start() {
			this.call.current = this.attempt;
			this.call.track(this);
			arm(this.limit);
			if (!ended()) {
				this.call.connector.send(this).subscribe(this);
			}
		}

		Call call() {
			return this.call;
		}

		Step.Attempt attempt() {
			return this.attempt;
		}

		/** Write the request onto the attempt's connection. */
		@Override
		public Mono<Void> apply(ClientHttpRequest request) {
			return BalancingClientHttpConnector.write(request, this.call, this.attempt, this.auth);
		}

		/**
		 * Once a success was handed on, its body is bounded by the request's deadline: the attempt's
		 * timer, left armed, tells the body when it fires (also when its end was queued just before
		 * the first byte won), which spares a second timer for every body read within the response
		 * timeout.
		 */
		@Override
		void firedLate() {
			Reader answered = this.body;
			if (answered != null) {
				answered.attemptLimitPassed();
			}
		}

		@Override
		public Context currentContext() {
			return this.call.currentContext();
		}

		@Override
		public void onSubscribe(Subscription subscription) {
			if (read(subscription)) {
				subscription.request(Long.MAX_VALUE);
			}
		}

		/** Read from this source from now on; {@code false} (and cancelled) if the attempt ended. */
		boolean read(Subscription subscription) {
			this.upstream = subscription;
			if (ended()) {
				subscription.cancel();
				return false;
			}
			return true;
		}

		@Override
		public void onNext(ClientHttpResponse response) {
			this.answered = true;
			judge(response);
		}

		@Override
		public void onError(Throwable error) {
			if (end()) {
				failed(error);
			}
		}

		@Override
		public void onComplete() {
			if (!this.answered && end()) {
				failed(new IllegalStateException("the transport ended without an answer"));
			}
		}

		/** The caller cancelled. */
		void cancel() {
			if (end()) {
				cancelUpstream();
			}
		}

		@Override
		void expired() {
			cancelUpstream();
			failed(this.call.connector.attemptTimedOut(this.requestBound));
		}

		private void cancelUpstream() {
			Subscription current = this.upstream;
			if (current != null) {
				current.cancel();
			}
		}

		/** The attempt failed without an answer to judge: tell the engine why, then the next step. */
		private void failed(Throwable error) {
			BalancingClientHttpConnector.attemptFailed(this.call.exchange, this.attempt, error, this.requestBound);
			this.call.attemptEnded();
		}

		/** Decide on an answer: hand it to the caller, fail the attempt, or read it and fail over. */
		private void judge(ClientHttpResponse response) {
			HttpStatusCode status = response.getStatusCode();
			if (BalancingClientHttpConnector.isRefused(status.value())) {
				// no caller may take a redirect for an answer, nor follow it with the backend's key
				Mono<byte[]> drained = response.getBody().doOnNext(DataBufferUtils::release).then(Mono.just(EMPTY));
				drained.subscribe(new ErrorBody(this, response, RefusedAnswerException.of(status.value())));
				return;
			}
			Outcome outcome = this.call.exchange.outcomeOf(status.value());
			if (outcome.failsOver()) {
				DataBufferUtils.join(response.getBody(), MAX_ERROR_BODY)
					.map(BalancingClientHttpConnector::bytes)
					.onErrorResume(DataBufferLimitException.class, (ex) -> Mono.just(EMPTY))
					.defaultIfEmpty(EMPTY)
					.subscribe(new ErrorBody(this, response, null));
				return;
			}
			if (!status.is2xxSuccessful()) {
				if (end()) {
					this.call.exchange.answered(this.attempt, status.value(), response.getHeaders()::getFirst, null);
					if (!this.call.deliver(response)) {
						discard(response);
					}
				}
				else {
					discard(response);
				}
				return;
			}
			response.getBody().subscribe(new Reader(this, response));
		}

		/** An error answer was read: remember it and fail over; or refuse it. */
		void errorBodyRead(ClientHttpResponse response, byte[] bytes, Throwable refusal) {
			if (!end()) {
				return;
			}
			if (refusal != null) {
				failed(refusal);
				return;
			}
			int status = response.getStatusCode().value();
			HttpHeaders headers = response.getHeaders();
			this.call.exchange.answered(this.attempt, status, headers::getFirst,
					new String(bytes, StandardCharsets.UTF_8));
			this.call.lastAnswer = new BufferedResponse(response.getStatusCode(), headers, bytes);
			this.call.attemptEnded();
		}

		/** A success's first byte (or its whole, empty body) arrived: the caller's answer. */
		void firstByte(Reader body) {
			this.body = body;
			if (!claim()) {
				body.cancel();
				return;
			}
			ClientHttpResponse response = body.response;
			this.call.exchange.answered(this.attempt, response.getStatusCode().value(),
					response.getHeaders()::getFirst, null);
			if (!this.call.deliver(new StreamingResponse(response, body.body))) {
				body.cancel();
			}
		}

		/** An answer nobody will read: its body is cancelled, which closes its connection. */
		private static void discard(ClientHttpResponse response) {
			response.getBody().subscribe(new BaseSubscriber<DataBuffer>() {
				@Override
				protected void hookOnSubscribe(Subscription subscription) {
					subscription.cancel();
				}
			});
		}

	}

	/** An error answer's body, read whole (bounded) to judge it; or a refused one, drained. */
	private static final class ErrorBody implements CoreSubscriber<byte[]> {

		private final Try attempt;

		private final ClientHttpResponse response;

		private final Throwable refusal;

		ErrorBody(Try attempt, ClientHttpResponse response, Throwable refusal) {
			this.attempt = attempt;
			this.response = response;
			this.refusal = refusal;
		}

		@Override
		public Context currentContext() {
			return this.attempt.currentContext();
		}

		@Override
		public void onSubscribe(Subscription subscription) {
			if (this.attempt.read(subscription)) {
				subscription.request(Long.MAX_VALUE);
			}
		}

		@Override
		public void onNext(byte[] bytes) {
			this.attempt.errorBodyRead(this.response, bytes, this.refusal);
		}

		@Override
		public void onError(Throwable error) {
			this.attempt.onError(error);
		}

		@Override
		public void onComplete() {
		}

	}

	/** A success's body as the caller sees it: read by its {@link Reader}. */
	private static final class PrimedBody extends Flux<DataBuffer> {

		private final Reader reader;

		PrimedBody(Reader reader) {
			this.reader = reader;
		}

		@Override
		public void subscribe(CoreSubscriber<? super DataBuffer> actual) {
			this.reader.subscribe(actual);
		}

	}

	/**
	 * Reads a success's body: its first chunk awaited (within the attempt's limit) and held, then, as
	 * the caller reads it, that chunk and the rest, once (WebClient subscribes again to release a
	 * body, and that later subscriber must find it empty rather than fail, which would blame the
	 * backend) and within what is left of the request's time: past its deadline the body is
	 * cancelled (its connection closes) and ends in an error.
	 */
	private static final class Reader extends EndsOnce implements CoreSubscriber<DataBuffer>, Subscription {

		private static final AtomicIntegerFieldUpdater<Reader> SUBSCRIBED = AtomicIntegerFieldUpdater
			.newUpdater(Reader.class, "subscribed");

		private static final AtomicIntegerFieldUpdater<Reader> BOUND = AtomicIntegerFieldUpdater
			.newUpdater(Reader.class, "bound");

		private static final Throwable COMPLETE = new Throwable("complete", null, false, false) {
		};

		private final Try attempt;

		final ClientHttpResponse response;

		final PrimedBody body = new PrimedBody(this);

		private Subscription upstream;

		private CoreSubscriber<? super DataBuffer> actual;

		/** The first chunk, until the caller takes it. */
		private DataBuffer held;

		/** Set once the held chunk was handed on (or dropped): chunks then pass straight through. */
		private volatile boolean flowing;

		/** The body's end, when it came before the caller took the first chunk. */
		private Throwable early;

		private boolean primed;

		private volatile int subscribed;

		/**
		 * 0 while the attempt's timer runs and nobody reads; 1 once the caller reads, bounded by
		 * that timer; 2 when it fired before the caller read; 3 once the body has a timer of its own.
		 */
		private volatile int bound;

		Reader(Try attempt, ClientHttpResponse response) {
			this.attempt = attempt;
			this.response = response;
		}

		@Override
		public Context currentContext() {
			CoreSubscriber<? super DataBuffer> reader = this.actual;
			return (reader != null) ? reader.currentContext() : this.attempt.currentContext();
		}

		@Override
		public void onSubscribe(Subscription subscription) {
			this.upstream = subscription;
			if (this.attempt.read(subscription)) {
				subscription.request(1);
			}
		}

		@Override
		public void onNext(DataBuffer buffer) {
			if (!this.primed) {
				this.primed = true;
				this.held = buffer;
				this.attempt.firstByte(this);
				return;
			}
			if (ended()) {
				// asked for before the caller cancelled or the deadline passed: the caller drops it unreleased
				DataBufferUtils.release(buffer);
				return;
			}
			this.actual.onNext(buffer);
		}

		@Override
		public void onError(Throwable error) {
			if (!this.primed) {
				this.attempt.onError(error);
				return;
			}
			if (holdEnd(error)) {
				return;
			}
			if (end()) {
				broke(error);
			}
		}

		@Override
		public void onComplete() {
			if (!this.primed) {
				this.primed = true;
				this.early = COMPLETE;
				this.attempt.firstByte(this);
				return;
			}
			if (holdEnd(COMPLETE)) {
				return;
			}
			if (end()) {
				this.actual.onComplete();
			}
		}

		/**
		 * Keep the body's end for after the first chunk, if the caller has not taken it yet. Always
		 * under the lock: {@link #flowing} is set before the chunk is handed on, so an end that read
		 * it without the lock could reach the caller first and the chunk would be dropped.
		 */
		private synchronized boolean holdEnd(Throwable end) {
			if (this.flowing) {
				return false;
			}
			this.early = end;
			return true;
		}

		void subscribe(CoreSubscriber<? super DataBuffer> reader) {
			if (!SUBSCRIBED.compareAndSet(this, 0, 1)) {
				Operators.complete(reader);
				return;
			}
			// serialized: the deadline's error may come from another thread than the chunks
			this.actual = Operators.serialize(reader);
			this.actual.onSubscribe(this);
			if (!BOUND.compareAndSet(this, 0, 1) && BOUND.compareAndSet(this, 2, 3)) {
				arm(this.attempt.call.deadline - System.nanoTime());
			}
		}

		/** The attempt's timer fired: from now on a timer of the body's own bounds it. */
		void attemptLimitPassed() {
			if (!BOUND.compareAndSet(this, 0, 2) && BOUND.compareAndSet(this, 1, 3)) {
				arm(this.attempt.call.deadline - System.nanoTime());
			}
		}

		@Override
		void onEnd() {
			this.attempt.disarm();
		}

		@Override
		public void request(long n) {
			if (!Operators.validate(n)) {
				return;
			}
			long more = this.flowing ? n : handOnHeld(n);
			if (more > 0) {
				this.upstream.request(more);
			}
		}

		/** Hand on the held chunk, then the body's end if it came meanwhile; the demand left. */
		private synchronized long handOnHeld(long n) {
			if (this.flowing) {
				return n;
			}
			this.flowing = true;
			DataBuffer first = this.held;
			this.held = null;
			if (first != null && !ended()) {
				this.actual.onNext(first);
				n = (n == Long.MAX_VALUE) ? n : n - 1;
			}
			else if (first != null) {
				DataBufferUtils.release(first);
			}
			Throwable end = this.early;
			if (end != null) {
				if (end()) {
					if (end == COMPLETE) {
						this.actual.onComplete();
					}
					else {
						broke(end);
					}
				}
				return 0;
			}
			return n;
		}

		@Override
		public void cancel() {
			if (end()) {
				this.upstream.cancel();
				dropHeld();
			}
		}

		@Override
		void expired() {
			this.upstream.cancel();
			dropHeld();
			broke(this.attempt.call.connector.maxDurationPassed());
		}

		/** The body ends in an error: the engine blames the backend, the caller gets the error. */
		private void broke(Throwable error) {
			this.attempt.call.exchange.streamBroke(this.attempt.attempt, error);
			this.actual.onError(error);
		}

		private synchronized void dropHeld() {
			this.flowing = true;
			DataBuffer first = this.held;
			this.held = null;
			if (first != null) {
				DataBufferUtils.release(first);
			}
		}

	}

	/** A response whose body is the one whose first byte was already awaited. */
	private static final class StreamingResponse extends ClientHttpResponseDecorator {

		private final Flux<DataBuffer> body;

		StreamingResponse(ClientHttpResponse delegate, Flux<DataBuffer> body) {
			super(delegate);
			this.body = body;
		}

		@Override
		public Flux<DataBuffer> getBody() {
			return this.body;
		}

	}

}
