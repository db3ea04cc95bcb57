package io.github.openailb.transport;

import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeoutException;

import io.github.openailb.auth.AuthHeader;
import io.github.openailb.auth.BackendCredentialException;
import io.github.openailb.auth.BackendCredentials;
import io.github.openailb.core.BalancerConfig;
import io.github.openailb.core.Exchange;
import io.github.openailb.core.LoadBalancer;
import io.github.openailb.core.RequestTarget;
import io.github.openailb.core.Step;
import org.reactivestreams.Publisher;
import reactor.core.Fuseable;
import reactor.core.publisher.Mono;

import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.core.io.buffer.DefaultDataBuffer;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.client.reactive.ClientHttpConnector;
import org.springframework.http.client.reactive.ClientHttpRequest;
import org.springframework.http.client.reactive.ClientHttpResponse;

/**
 * The balanced HTTP transport every adapter shares. Requests aimed at the logical host
 * {@value #LOGICAL_HOST} are sent, attempt by attempt, to the backends the {@link LoadBalancer}
 * chooses, through a real connector; any other request goes to the pass-through connector
 * untouched. The request body is held once (up to a limit) and replayed on each attempt; a
 * successful response body is streamed, never held, and is handed to the caller only after its
 * first byte arrived within the response timeout, so a stalled stream still fails over. A whole
 * request, streamed body included, ends within its {@code max-duration}. A redirect is never
 * followed nor handed to the caller: it fails the attempt like a 5xx.
 */
public final class BalancingClientHttpConnector implements ClientHttpConnector {

	/** Host name of the logical, balanced endpoint. */
	public static final String LOGICAL_HOST = "openai-lb";

	/** Base URL of the logical, balanced endpoint. */
	public static final String BASE_URL = "http://" + LOGICAL_HOST;

	/** Header that marks the balancer's own answers (as opposed to a backend's). */
	public static final String MARK_HEADER = "x-openai-lb";

	/**
	 * Value of {@link #MARK_HEADER} on the synthetic 503 sent when the backend holding a request's
	 * server-side state cannot take it.
	 */
	public static final String STATEFUL_UNAVAILABLE_MARK = "stateful-backend-unavailable";

	/**
	 * Value of {@link #MARK_HEADER} on the synthetic 404 sent when no backend serves the request's
	 * model (every backend lists its deployments, none that model).
	 */
	public static final String MODEL_NOT_SERVED_MARK = "model-not-served";

	/** Value of {@link #MARK_HEADER} on the synthetic 429 sent when every backend is throttled. */
	public static final String THROTTLED_MARK = "throttled";

	/**
	 * Value of {@link #MARK_HEADER} on the synthetic 503 sent when every backend that could be tried
	 * is kept out by its open circuit breaker.
	 */
	public static final String UNAVAILABLE_MARK = "unavailable";

	private static final String[] NOT_REPLAYED = { "host", "content-length", "transfer-encoding", "connection",
			"expect", "upgrade", "keep-alive", "te", "trailer" };

	private final LoadBalancer balancer;

	private final ClientHttpConnector transport;

	private final BackendCredentials credentials;

	private final TransportConfig config;

	private final ClientHttpConnector passThrough;

	/**
	 * Create a balancing connector.
	 * @param balancer the engine
	 * @param transport sends each attempt; should carry the connect timeout
	 * @param credentials the credential header of each backend
	 * @param config the response timeout per attempt, the longest duration per request and the
	 * largest request body held
	 * @param passThrough sends requests not aimed at {@value #LOGICAL_HOST}
	 */
	public BalancingClientHttpConnector(LoadBalancer balancer, ClientHttpConnector transport,
			BackendCredentials credentials, TransportConfig config, ClientHttpConnector passThrough) {
		this.balancer = balancer;
		this.transport = transport;
		this.credentials = credentials;
		this.config = config;
		this.passThrough = passThrough;
	}

	/**
	 * Return a connector sharing this one's engine and transport that sends requests not aimed
	 * at the logical host to the given connector.
	 * @param passThrough the connector for all other requests
	 * @return the new connector
	 */
	public BalancingClientHttpConnector withPassThrough(ClientHttpConnector passThrough) {
		return new BalancingClientHttpConnector(this.balancer, this.transport, this.credentials, this.config,
				passThrough);
	}

	/**
	 * Whether a request to this URI is balanced.
	 * @param uri the request URI
	 * @return {@code true} when it is aimed at the logical host
	 */
	public static boolean isBalanced(URI uri) {
		return LOGICAL_HOST.equalsIgnoreCase(uri.getHost());
	}

	/**
	 * Return the engine this connector sends through.
	 * @return the engine
	 */
	public LoadBalancer balancer() {
		return this.balancer;
	}

	/**
	 * Return the limits every attempt and request of this connector keeps.
	 * @return the limits
	 */
	public TransportConfig config() {
		return this.config;
	}

	/**
	 * Return the credential header of each backend.
	 * @return the credentials
	 */
	public BackendCredentials credentials() {
		return this.credentials;
	}

	@Override
	public Mono<ClientHttpResponse> connect(HttpMethod method, URI uri,
			java.util.function.Function<? super ClientHttpRequest, Mono<Void>> requestCallback) {
		if (!isBalanced(uri)) {
			return this.passThrough.connect(method, uri, requestCallback);
		}
		CapturedRequest captured = new CapturedRequest(method, uri, this.config.maxRequestBody());
		return new BalancedCall(this, method, pathAndQuery(uri), captured, requestCallback.apply(captured));
	}

	/**
	 * Send one request through the balancer.
	 * @param method the method
	 * @param rawPathAndQuery the encoded path and query, appended to each backend's base URL
	 * @param headers the caller's headers
	 * @param body the request body, replayed on each attempt
	 * @return the answer: a backend's, the synthetic 429 or the synthetic 503; or a
	 * {@link NoBackendAnsweredException} when no backend answered at all
	 */
	public Mono<ClientHttpResponse> exchange(HttpMethod method, String rawPathAndQuery, HttpHeaders headers,
			byte[] body) {
		return new BalancedCall(this, method, rawPathAndQuery, headers, body);
	}

	/**
	 * Send one request through the balancer, holding its body first (up to
	 * {@code openai.lb.max-request-body}).
	 * @param method the method
	 * @param rawPathAndQuery the encoded path and query, appended to each backend's base URL
	 * @param headers the caller's headers
	 * @param body the request body, read once and replayed on each attempt
	 * @return the answer, as {@link #exchange(HttpMethod, String, HttpHeaders, byte[])} gives it,
	 * or a {@link RequestTooLargeException}
	 */
	public Mono<ClientHttpResponse> exchange(HttpMethod method, String rawPathAndQuery, HttpHeaders headers,
			Publisher<? extends DataBuffer> body) {
		return hold(body, this.config.maxRequestBody())
			.flatMap((bytes) -> exchange(method, rawPathAndQuery, headers, bytes));
	}

	/** Join a request body into one array, refusing one above the limit while it arrives. */
	static Mono<byte[]> hold(Publisher<? extends DataBuffer> body, long limit) {
		return DataBufferUtils.join(body, (int) limit)
			.map(BalancingClientHttpConnector::bytes)
			.defaultIfEmpty(new byte[0])
			.onErrorMap(DataBufferLimits::isLimit, (ex) -> new RequestTooLargeException(-1, limit));
	}

	/** Send the attempt with the backend's credential, or the caller's when it has none. */
	Mono<ClientHttpResponse> send(BalancedCall.Try attempt) {
		Mono<AuthHeader> credential = this.credentials.headerFor(attempt.attempt().backend().config());
		if (credential instanceof Fuseable.ScalarCallable<?> known) {
			// a key known up front (Mono.just or Mono.empty): no operator chain per attempt
			AuthHeader auth;
			try {
				auth = (AuthHeader) known.call();
			}
			catch (Exception ex) {
				return Mono.error(new CredentialFailure(ex));
			}
			return connect(attempt, auth);
		}
		return credential.map(Optional::of)
			.defaultIfEmpty(Optional.empty())
			.onErrorMap(CredentialFailure::new)
			.flatMap((auth) -> connect(attempt, auth.orElse(null)));
	}

	/** The attempt writes its own request: no callback object per attempt. */
	private Mono<ClientHttpResponse> connect(BalancedCall.Try attempt, AuthHeader auth) {
		attempt.auth = auth;
		BalancedCall.Call call = attempt.call();
		return this.transport.connect(call.method(), RequestTarget.uri(attempt.attempt(), call.pathAndQuery()),
				attempt);
	}

	/**
	 * Whether an attempt failed for want of a connection or an answer in time: the attempt's own
	 * timer, Reactor Netty's response timeout, Netty's connect timeout, a socket's timeout.
	 * @param error the attempt's error
	 * @return whether it is a timeout
	 */
	public static boolean isTimeout(Throwable error) {
		for (Throwable cause = error; cause != null; cause = (cause.getCause() != cause) ? cause.getCause() : null) {
			if (cause instanceof TimeoutException || cause instanceof io.netty.handler.timeout.TimeoutException
					|| cause instanceof io.netty.channel.ConnectTimeoutException
					|| cause instanceof java.net.SocketTimeoutException) {
				return true;
			}
		}
		return false;
	}

	/**
	 * Why a backend has no credential, in words free of secrets: only a
	 * {@link BackendCredentialException}'s message is known to be.
	 * @param cause the credential's failure
	 * @return the reason
	 */
	public static String credentialReason(Throwable cause) {
		return (cause instanceof BackendCredentialException) ? cause.getMessage()
				: "no credential: " + cause.getClass().getSimpleName();
	}

	static Mono<Void> write(ClientHttpRequest request, BalancedCall.Call call, Step.Attempt attempt,
			AuthHeader auth) {
		HttpHeaders out = request.getHeaders();
		// the caller's value lists, shared rather than copied: no transport writes to a request's headers
		call.headers.forEach((name, values) -> {
			if (isReplayed(name, auth != null)) {
				out.put(name, values);
			}
		});
		// one-value lists that cannot change: what HttpHeaders.set would hold, at half the size
		if (auth != null) {
			out.put(auth.name(), List.of(auth.value()));
		}
		byte[] bytes = RequestTarget.body(attempt, call.pathAndQuery(), call.body);
		HttpMethod method = call.method();
		if (bytes.length == 0 && (method == HttpMethod.GET || method == HttpMethod.HEAD || method == HttpMethod.DELETE
				|| method == HttpMethod.OPTIONS)) {
			return request.setComplete();
		}
		out.put(HttpHeaders.CONTENT_LENGTH, List.of(Integer.toString(bytes.length)));
		return request.writeWith(Mono.just(request.bufferFactory().wrap(bytes)));
	}

	/**
	 * Whether an attempt carries this header of the caller's: not a hop-by-hop one (nor
	 * {@code Host} or {@code Content-Length}, the attempt's own), and not the caller's key or token
	 * when the backend has a credential of its own. Compared without lower-casing a copy of each
	 * name, as a set lookup would need.
	 * @param name the header's name
	 * @param credentialReplaced whether the backend sends a credential of its own
	 * @return whether the attempt sends it
	 */
	public static boolean isReplayed(String name, boolean credentialReplaced) {
		for (String hopByHop : NOT_REPLAYED) {
			if (hopByHop.equalsIgnoreCase(name)) {
				return false;
			}
		}
		return !credentialReplaced
				|| !("api-key".equalsIgnoreCase(name) || HttpHeaders.AUTHORIZATION.equalsIgnoreCase(name));
	}

	/**
	 * Whether no caller may take an answer with this status: an interim one as if final, a
	 * redirect (following it would carry the backend's key to wherever it points), or a status HTTP
	 * does not define.
	 * @param status the answer's status
	 * @return whether the attempt fails with {@link #refused(int)}
	 */
	public static boolean isRefused(int status) {
		return status < 200 || status > 599 || (status >= 300 && status < 400);
	}

	/**
	 * The error that fails an attempt whose answer no caller may take: an interim answer as the
	 * final one, or a redirect (following it would carry the backend's key to wherever it points).
	 * @param status the answer's status
	 * @return the error
	 */
	public static IOException refused(int status) {
		return RefusedAnswerException.of(status);
	}

	/**
	 * The error of an attempt that its own timer ended before its answer was judged.
	 * @param requestBound whether the attempt's limit was what was left of the request's time,
	 * rather than the response timeout
	 * @return the error, naming the limit that passed
	 */
	public TimeoutException attemptTimedOut(boolean requestBound) {
		return requestBound ? maxDurationPassed()
				: new TimeoutException("no response within " + this.config.responseTimeout().toMillis() + " ms");
	}

	/**
	 * Tell the engine why an attempt ended without an answer to judge: no credential, a backend
	 * that hangs (left alone for a while), or another failure. The request's own deadline passing
	 * is not the backend's fault, so it is not a timeout of the backend's.
	 * @param exchange the request's exchange
	 * @param attempt the attempt
	 * @param error what ended it
	 * @param requestBound whether the attempt's limit was what was left of the request's time
	 */
	public static void attemptFailed(Exchange exchange, Step.Attempt attempt, Throwable error,
			boolean requestBound) {
		if (error instanceof CredentialFailure failure) {
			exchange.credentialFailed(attempt, credentialReason(failure.getCause()));
		}
		else if (isTimeout(error) && !(requestBound && error instanceof TimeoutException)) {
			exchange.timedOut(attempt, error);
		}
		else {
			exchange.failed(attempt, error);
		}
	}

	/**
	 * The error of a request that outlived {@code openai.lb.max-duration}.
	 * @return the error, naming the property and its value
	 */
	public TimeoutException maxDurationPassed() {
		return new TimeoutException("the request took longer than " + BalancerConfig.PREFIX + ".max-duration ("
				+ this.config.maxDuration().toMillis() + " ms)");
	}

	/**
	 * The balancer's own answer that ends a request: the 429 when every backend is throttled, the
	 * 503s when none may be tried, the 404 when none serves the model.
	 * @param end how the request ends
	 * @return the answer, or {@code null} when the request ends in the last backend answer or in a
	 * {@link io.github.openailb.core.NoBackendAnsweredException}
	 */
	public static ClientHttpResponse answerFor(Step.GiveUp end) {
		return switch (end.ending()) {
			case STATEFUL_UNAVAILABLE -> synthetic(end, 503, STATEFUL_UNAVAILABLE_MARK, end.statefulUnavailableBody());
			case THROTTLED -> synthetic(end, 429, THROTTLED_MARK, end.throttledBody());
			case UNAVAILABLE -> synthetic(end, 503, UNAVAILABLE_MARK, end.unavailableBody());
			case MODEL_NOT_SERVED -> synthetic(end, 404, MODEL_NOT_SERVED_MARK, end.modelNotServedBody());
			default -> null;
		};
	}

	/** An answer of the balancer's own: the mark says which kind, the body names the backends. */
	private static ClientHttpResponse synthetic(Step.GiveUp end, int status, String mark, byte[] body) {
		HttpHeaders headers = new HttpHeaders();
		headers.setContentType(MediaType.APPLICATION_JSON);
		if (end.retryAfterSeconds() > 0) {
			headers.set(HttpHeaders.RETRY_AFTER, Long.toString(end.retryAfterSeconds()));
		}
		headers.set(MARK_HEADER, mark);
		return new BufferedResponse(HttpStatusCode.valueOf(status), headers, body);
	}

	static byte[] bytes(DataBuffer buffer) {
		byte[] whole = wholeArray(buffer);
		if (whole != null) {
			return whole;
		}
		byte[] bytes = new byte[buffer.readableByteCount()];
		buffer.read(bytes);
		DataBufferUtils.release(buffer);
		return bytes;
	}

	/**
	 * The array of a heap buffer that holds exactly it (a wrapped {@code byte[]}, an encoder's
	 * output), taken as it is rather than copied: nothing writes to a body once it was sent.
	 */
	private static byte[] wholeArray(DataBuffer buffer) {
		if (buffer instanceof DefaultDataBuffer heap && heap.readPosition() == 0) {
			ByteBuffer bytes = heap.getNativeBuffer();
			if (bytes.hasArray() && bytes.arrayOffset() == 0 && bytes.array().length == heap.writePosition()) {
				return bytes.array();
			}
		}
		return null;
	}

	static String pathAndQuery(URI uri) {
		String path = (uri.getRawPath() != null) ? uri.getRawPath() : "";
		return (uri.getRawQuery() != null) ? path + "?" + uri.getRawQuery() : path;
	}

	static final class CredentialFailure extends RuntimeException {

		CredentialFailure(Throwable cause) {
			super(cause);
		}

	}

	private static final class DataBufferLimits {

		static boolean isLimit(Throwable ex) {
			return ex instanceof org.springframework.core.io.buffer.DataBufferLimitException;
		}

	}

}
