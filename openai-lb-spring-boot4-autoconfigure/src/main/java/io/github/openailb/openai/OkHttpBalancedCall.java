package io.github.openailb.openai;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

import io.github.openailb.auth.AuthHeader;
import io.github.openailb.core.Backend;
import io.github.openailb.core.Exchange;
import io.github.openailb.core.NoBackendAnsweredException;
import io.github.openailb.core.Outcome;
import io.github.openailb.core.RequestTarget;
import io.github.openailb.core.Step;
import io.github.openailb.transport.BalancingClientHttpConnector;
import io.github.openailb.transport.Deadlines;
import io.github.openailb.transport.RequestTooLargeException;
import io.github.openailb.transport.TransportConfig;
import io.netty.util.Timeout;
import io.netty.util.TimerTask;
import okhttp3.Call;
import okhttp3.Headers;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.Buffer;
import okio.BufferedSink;
import okio.BufferedSource;
import okio.ForwardingSink;
import okio.ForwardingSource;
import okio.Okio;
import reactor.core.Exceptions;
import reactor.core.Fuseable;
import reactor.core.publisher.Mono;

import org.springframework.http.client.reactive.ClientHttpResponse;

/**
 * One balanced call of the OpenAI SDK, attempt by attempt on the caller's own thread with OkHttp,
 * the SDK's client: no hand-over to an event loop and back for a caller that blocks anyway. The
 * engine chooses and judges as for every other adapter; what the reactive transport bounds with
 * its timers is bounded here by one {@link Watch} per attempt, which cancels the attempt's OkHttp
 * call when its time is up or the caller gave up. OkHttp itself skips interim answers and
 * decodes gzip it asked for; its attempt client follows no redirect and retries nothing.
 */
final class OkHttpBalancedCall {

	/** Error answers are read to find retry hints and to be returned if they are the last. */
	private static final int MAX_ERROR_BODY = 256 * 1024;

	/** How often a waiting or sending caller's own call is checked for a cancel or interrupt. */
	private static final long CHECK_NANOS = Duration.ofMillis(50).toNanos();

	private final BalancingClientHttpConnector connector;

	private final OkHttpClient client;

	private final Urls urls;

	private final Request request;

	private final Call caller;

	private final Thread thread = Thread.currentThread();

	private final String pathAndQuery;

	private Exchange exchange;

	private byte[] body;

	private long deadline;

	/** The last error answer, read, for when every backend failed. */
	private Response lastAnswer;

	OkHttpBalancedCall(BalancingClientHttpConnector connector, OkHttpClient client, Urls urls, Request request,
			Call caller) {
		this.connector = connector;
		this.client = client;
		this.urls = urls;
		this.request = request;
		this.caller = caller;
		this.pathAndQuery = BalancingOkHttpInterceptor.pathAndQuery(request.url());
	}

	Response execute() throws IOException {
		TransportConfig config = this.connector.config();
		this.body = hold(this.request.body(), config.maxRequestBody());
		this.deadline = System.nanoTime() + config.maxDuration().toNanos();
		this.exchange = this.connector.balancer().begin(this.request.method(), this.pathAndQuery, this.body);
		while (true) {
			checkCaller(null);
			long left = this.deadline - System.nanoTime();
			Step step = (left > 0) ? this.exchange.next() : this.exchange.giveUpNow();
			if (step instanceof Step.Attempt attempt) {
				Response answer = attempt(attempt, left);
				if (answer != null) {
					return answer;
				}
			}
			else if (step instanceof Step.Wait wait) {
				pause(Math.min(wait.delay().toNanos(), left));
			}
			else {
				return end((Step.GiveUp) step);
			}
		}
	}

	/** Read the request body once, refusing one above the limit while it is written. */
	static byte[] hold(RequestBody body, long limit) throws IOException {
		if (body == null) {
			return new byte[0];
		}
		long length = body.contentLength();
		if (length > limit) {
			throw new RequestTooLargeException(length, limit);
		}
		Buffer held = new Buffer();
		if (length >= 0) {
			// known up front (the SDK's JSON): written as it is, checked once
			body.writeTo(held);
			if (held.size() > limit) {
				throw new RequestTooLargeException(held.size(), limit);
			}
			return held.readByteArray();
		}
		BufferedSink sink = Okio.buffer(new ForwardingSink(held) {
			@Override
			public void write(Buffer source, long byteCount) throws IOException {
				if (held.size() + byteCount > limit) {
					throw new RequestTooLargeException(-1, limit);
				}
				super.write(source, byteCount);
			}
		});
		body.writeTo(sink);
		sink.flush();
		return held.readByteArray();
	}

	/**
	 * One attempt, bounded by the response timeout (or what is left of the request's time) until
	 * its answer is judged, which for a success means until its first body byte arrived.
	 * @return the caller's answer, or {@code null} to take the engine's next step
	 */
	private Response attempt(Step.Attempt attempt, long nanosLeft) throws IOException {
		long responseTimeout = this.connector.config().responseTimeout().toNanos();
		boolean requestBound = nanosLeft < responseTimeout;
		AuthHeader auth;
		try {
			auth = credential(attempt);
		}
		catch (RuntimeException ex) {
			this.exchange.credentialFailed(attempt, BalancingClientHttpConnector.credentialReason(Exceptions.unwrap(ex)));
			return null;
		}
		Request attemptRequest;
		try {
			attemptRequest = attemptRequest(attempt, auth);
		}
		catch (IllegalArgumentException ex) {
			// OkHttp's refusal of a header quotes an api-key's value: say why without it
			this.exchange.credentialFailed(attempt, "the credential is not a valid HTTP header value");
			return null;
		}
		Call call = this.client.newCall(attemptRequest);
		Watch watch = new Watch(call, System.nanoTime() + (requestBound ? nanosLeft : responseTimeout));
		Response response = null;
		Response answer = null;
		try {
			response = call.execute();
			answer = judge(attempt, response, watch);
			return answer;
		}
		catch (IOException ex) {
			checkCaller(attempt);
			BalancingClientHttpConnector.attemptFailed(this.exchange, attempt,
					watch.expired ? this.connector.attemptTimedOut(requestBound) : ex, requestBound);
			return null;
		}
		finally {
			if (answer == null) {
				// failed over, or failed: nothing of this attempt stays open
				watch.stop();
				if (response != null) {
					response.close();
				}
			}
		}
	}

	/** The backend's credential; a key known up front costs no subscription. */
	private AuthHeader credential(Step.Attempt attempt) {
		Mono<AuthHeader> header = this.connector.credentials().headerFor(attempt.backend().config());
		if (header instanceof Fuseable.ScalarCallable<?> known) {
			try {
				return (AuthHeader) known.call();
			}
			catch (Exception ex) {
				throw Exceptions.propagate(ex);
			}
		}
		// a future, not block(): the SDK may be called on a Reactor thread, where block() refuses
		try {
			return header.toFuture().get(this.connector.config().responseTimeout().toMillis(), TimeUnit.MILLISECONDS);
		}
		catch (ExecutionException ex) {
			throw Exceptions.propagate(ex.getCause());
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw Exceptions.propagate(ex);
		}
		catch (TimeoutException ex) {
			throw new IllegalStateException("no credential within the response timeout", ex);
		}
	}

	/** The caller's request aimed at the attempt's backend, with its credential. */
	private Request attemptRequest(Step.Attempt attempt, AuthHeader auth) {
		Request.Builder out = new Request.Builder().url(this.urls.of(attempt, this.pathAndQuery));
		Headers headers = this.request.headers();
		for (int i = 0; i < headers.size(); i++) {
			String name = headers.name(i);
			if (BalancingClientHttpConnector.isReplayed(name, auth != null)) {
				out.addHeader(name, headers.value(i));
			}
		}
		if (auth != null) {
			out.header(auth.name(), auth.value());
		}
		byte[] bytes = RequestTarget.body(attempt, this.pathAndQuery, this.body);
		String method = this.request.method();
		RequestBody original = this.request.body();
		if (original == null && bytes.length == 0) {
			return out.method(method, null).build();
		}
		return out.method(method, RequestBody.create(bytes, (original != null) ? original.contentType() : null)).build();
	}

	/** Decide on an answer: the caller's (returned), or a failed attempt to fail over from. */
	private Response judge(Step.Attempt attempt, Response response, Watch watch) throws IOException {
		int status = response.code();
		if (BalancingClientHttpConnector.isRefused(status)) {
			// a client built without refuseUnsafeAnswers hands these on
			throw BalancingClientHttpConnector.refused(status);
		}
		Outcome outcome = this.exchange.outcomeOf(status);
		if (outcome.failsOver()) {
			byte[] bytes = readError(response.body());
			this.exchange.answered(attempt, status, response::header, new String(bytes, StandardCharsets.UTF_8));
			this.lastAnswer = response.newBuilder().body(ResponseBody.create(bytes, response.body().contentType())).build();
			return null;
		}
		if (status < 300) {
			// a stream that stalls before its first byte still fails over
			response.body().source().request(1);
		}
		watch.bodyFollows(this.deadline);
		this.exchange.answered(attempt, status, response::header, null);
		ResponseBody body = response.body();
		BufferedSource bounded = Okio.buffer(new BoundedBody(body.source(), attempt, watch));
		return response.newBuilder().request(this.request).body(new ResponseBody() {
			// OkHttp parses the content type each time it is asked: only if the caller asks
			@Override
			public MediaType contentType() {
				return body.contentType();
			}

			@Override
			public long contentLength() {
				return body.contentLength();
			}

			@Override
			public BufferedSource source() {
				return bounded;
			}
		}).build();
	}

	/** An error answer's body, whole up to a limit (beyond it nothing is kept). */
	private static byte[] readError(ResponseBody body) throws IOException {
		BufferedSource source = body.source();
		if (source.request(MAX_ERROR_BODY + 1L)) {
			return new byte[0];
		}
		return source.readByteArray();
	}

	/** The caller's own client cancelled the call, or its thread was interrupted: stop here. */
	private void checkCaller(Step.Attempt attempt) throws InterruptedIOException {
		if (this.caller.isCanceled() || this.thread.isInterrupted()) {
			this.exchange.abandoned(attempt);
			throw new InterruptedIOException("The caller cancelled the balanced call");
		}
	}

	/** Wait for a cooling backend, still answering the caller's cancel. */
	private void pause(long nanos) throws InterruptedIOException {
		long until = System.nanoTime() + nanos;
		long left;
		while ((left = until - System.nanoTime()) > 0) {
			LockSupport.parkNanos(this, Math.min(left, CHECK_NANOS));
			checkCaller(null);
		}
	}

	private Response end(Step.GiveUp end) throws IOException {
		if (end.ending() == Step.Ending.LAST_ANSWER) {
			return this.lastAnswer.newBuilder().request(this.request).build();
		}
		ClientHttpResponse answer = BalancingClientHttpConnector.answerFor(end);
		if (answer == null) {
			throw new NoBackendAnsweredException(end.reason());
		}
		return BalancingOkHttpInterceptor.response(this.request, answer);
	}

	/**
	 * Bounds one attempt's OkHttp call: until its answer, by the attempt's limit, checking every
	 * 50 ms whether the caller gave up (OkHttp tells an interceptor only when
	 * asked); then its body, by the request's deadline. Cancelling the call closes its connection.
	 */
	private final class Watch implements TimerTask {

		private final Call call;

		private volatile long limit;

		private volatile boolean body;

		private volatile boolean stopped;

		volatile boolean expired;

		private volatile Timeout timer;

		Watch(Call call, long limit) {
			this.call = call;
			this.limit = limit;
			this.timer = Deadlines.arm(this, Math.min(CHECK_NANOS, limit - System.nanoTime()));
		}

		/** From the first byte on, the request's deadline bounds what is left. */
		void bodyFollows(long deadline) {
			this.limit = deadline;
			this.body = true;
		}

		void stop() {
			this.stopped = true;
			this.timer.cancel();
		}

		@Override
		public void run(Timeout due) {
			if (this.stopped) {
				return;
			}
			long left = this.limit - System.nanoTime();
			if (left <= 0) {
				this.expired = true;
				this.call.cancel();
				return;
			}
			if (!this.body && (OkHttpBalancedCall.this.caller.isCanceled() || OkHttpBalancedCall.this.thread.isInterrupted())) {
				this.call.cancel();
				return;
			}
			this.timer = Deadlines.arm(this, this.body ? left : Math.min(CHECK_NANOS, left));
		}

	}

	/**
	 * The answer's body as the caller reads it: a break or the request's deadline blames the
	 * backend and ends in an error; its end or close stops the watch.
	 */
	private final class BoundedBody extends ForwardingSource {

		private final Step.Attempt attempt;

		private final Watch watch;

		private boolean ended;

		BoundedBody(BufferedSource source, Step.Attempt attempt, Watch watch) {
			super(source);
			this.attempt = attempt;
			this.watch = watch;
		}

		@Override
		public long read(Buffer sink, long byteCount) throws IOException {
			try {
				long read = super.read(sink, byteCount);
				if (read == -1) {
					end();
				}
				return read;
			}
			catch (IOException ex) {
				if (this.ended) {
					throw ex;
				}
				end();
				IOException error = ex;
				if (this.watch.expired) {
					TimeoutException passed = OkHttpBalancedCall.this.connector.maxDurationPassed();
					error = new InterruptedIOException(passed.getMessage());
					error.initCause(passed);
				}
				OkHttpBalancedCall.this.exchange.streamBroke(this.attempt, error);
				throw error;
			}
		}

		@Override
		public void close() throws IOException {
			end();
			super.close();
		}

		private void end() {
			this.ended = true;
			this.watch.stop();
		}

	}

	/**
	 * The last attempt URL of each backend, parsed once: calls repeat their path, and the engine
	 * hands out the same {@link URI} for it, which OkHttp would parse again on every attempt.
	 */
	static final class Urls {

		/** More than any pool of backends: past it, the backends were replaced; start over. */
		private static final int MAX = 1024;

		private final Map<Backend, Last> last = new ConcurrentHashMap<>();

		HttpUrl of(Step.Attempt attempt, String pathAndQuery) {
			URI uri = RequestTarget.uri(attempt, pathAndQuery);
			Last known = this.last.get(attempt.backend());
			if (known != null && known.uri() == uri) {
				return known.url();
			}
			HttpUrl url = HttpUrl.get(uri.toString());
			if (this.last.size() >= MAX) {
				this.last.clear();
			}
			this.last.put(attempt.backend(), new Last(uri, url));
			return url;
		}

		private record Last(URI uri, HttpUrl url) {
		}

	}

}
