package io.github.openailb.openai;

import java.io.IOException;
import java.net.ProtocolException;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

import io.github.openailb.transport.BalancingClientHttpConnector;
import io.github.openailb.transport.BlockingExchange;
import io.github.openailb.transport.TransportConfig;
import okhttp3.Connection;
import okhttp3.ConnectionPool;
import okhttp3.Headers;
import okhttp3.HttpUrl;
import okhttp3.Interceptor;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.Okio;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.client.reactive.ClientHttpResponse;

/**
 * Balances the calls of the OpenAI Java SDK (and so of Spring AI 2's {@code OpenAiChatModel} and
 * {@code OpenAiEmbeddingModel}, blocking and streaming): an OkHttp application interceptor, last
 * in the chain, that balances every request aimed at the logical host
 * {@value BalancingClientHttpConnector#LOGICAL_HOST} with the engine and limits of the shared
 * {@link BalancingClientHttpConnector}, and returns the balanced answer as OkHttp's response, its
 * body streamed as it arrives. Other hosts go on down the chain untouched.
 * <p>
 * Attempts are sent with an OkHttp client of their own on the caller's thread (the SDK's calls
 * block anyway: handing each to Reactor Netty's event loop and back costs several times OkHttp's
 * own work per call), or, when built without one, through the connector's Reactor Netty transport,
 * where the application's {@code OpenAiLbHttpClientCustomizer}s (proxy, TLS) apply.
 */
public final class BalancingOkHttpInterceptor implements Interceptor, AutoCloseable {

	private final BalancingClientHttpConnector connector;

	private final OkHttpClient attempts;

	private final OkHttpBalancedCall.Urls urls = new OkHttpBalancedCall.Urls();

	/**
	 * Create an interceptor that sends attempts through the connector's transport.
	 * @param connector the shared balanced transport
	 */
	public BalancingOkHttpInterceptor(BalancingClientHttpConnector connector) {
		this(connector, null);
	}

	/**
	 * Create an interceptor.
	 * @param connector the shared engine, credentials and limits
	 * @param attempts sends attempts on the caller's thread, or {@code null} to send them through
	 * the connector's transport; see {@link #attemptClient(OkHttpClient.Builder, TransportConfig)}
	 */
	public BalancingOkHttpInterceptor(BalancingClientHttpConnector connector, OkHttpClient attempts) {
		this.connector = connector;
		this.attempts = attempts;
	}

	/**
	 * Make an OkHttp client fit to send attempts: the connect timeout, the response timeout as the
	 * longest silence, no redirect followed (it would carry the backend's key to wherever it points),
	 * no retry of its own (a failed attempt is the engine's to judge and fail over), and no
	 * connection kept after an answer it cannot take (see {@link #refuseUnsafeAnswers}).
	 * @param builder the client to start from, with the application's proxy or TLS settings
	 * @param config the limits
	 * @return the client
	 */
	public static OkHttpClient attemptClient(OkHttpClient.Builder builder, TransportConfig config) {
		return builder.connectTimeout(config.connectTimeout())
			.readTimeout(config.responseTimeout())
			.writeTimeout(config.responseTimeout())
			.followRedirects(false)
			.followSslRedirects(false)
			.retryOnConnectionFailure(false)
			.connectionPool(new ConnectionPool(config.maxConnections(), 30, TimeUnit.SECONDS))
			.addNetworkInterceptor(BalancingOkHttpInterceptor::refuseUnsafeAnswers)
			.build();
	}

	/**
	 * Fail an attempt whose answer no caller may take, closing its connection so that nothing of
	 * that exchange is read as the next one's answer: a redirect, a status outside 200-599 that
	 * OkHttp hands on as final (a 101, a 600), and a run of interim answers OkHttp 4 cannot parse
	 * (it fails on the second with an {@link IllegalStateException}, not an I/O error).
	 */
	static Response refuseUnsafeAnswers(Chain chain) throws IOException {
		Response response;
		try {
			response = chain.proceed(chain.request());
		}
		catch (IllegalStateException ex) {
			close(chain);
			throw new ProtocolException("an answer OkHttp could not parse: " + ex.getMessage());
		}
		if (BalancingClientHttpConnector.isRefused(response.code())) {
			close(chain);
			throw BalancingClientHttpConnector.refused(response.code());
		}
		return response;
	}

	private static void close(Chain chain) {
		Connection connection = chain.connection();
		if (connection != null) {
			try {
				connection.socket().close();
			}
			catch (IOException ex) {
				// closing is all that was wanted
			}
		}
	}

	@Override
	public Response intercept(Chain chain) throws IOException {
		Request request = chain.request();
		if (!BalancingClientHttpConnector.LOGICAL_HOST.equalsIgnoreCase(request.url().host())) {
			return chain.proceed(request);
		}
		if (this.attempts != null) {
			return new OkHttpBalancedCall(this.connector, this.attempts, this.urls, request, chain.call()).execute();
		}
		String pathAndQuery = pathAndQuery(request.url());
		byte[] body = OkHttpBalancedCall.hold(request.body(), this.connector.config().maxRequestBody());
		ClientHttpResponse answer = BlockingExchange.exchange(this.connector, HttpMethod.valueOf(request.method()),
				pathAndQuery, headers(request), body, chain.call()::isCanceled);
		return response(request, answer);
	}

	/**
	 * The encoded path and query of a URL: one cut of the string OkHttp keeps, rather than
	 * OkHttp's path and query each rebuilt and joined.
	 */
	static String pathAndQuery(HttpUrl url) {
		String whole = url.toString();
		int start = whole.indexOf('/', url.scheme().length() + 3);
		if (start < 0) {
			return "/";
		}
		int fragment = whole.indexOf('#', start);
		return whole.substring(start, (fragment < 0) ? whole.length() : fragment);
	}

	/** OkHttp adds the body's headers after the application interceptors: add them here. */
	private static HttpHeaders headers(Request request) {
		HttpHeaders headers = new HttpHeaders();
		Headers in = request.headers();
		for (int i = 0; i < in.size(); i++) {
			headers.add(in.name(i), in.value(i));
		}
		RequestBody body = request.body();
		if (body != null && body.contentType() != null && !headers.containsHeader(HttpHeaders.CONTENT_TYPE)) {
			headers.set(HttpHeaders.CONTENT_TYPE, Objects.requireNonNull(body.contentType()).toString());
		}
		return headers;
	}

	/** The balancer's answer as OkHttp's, its body read as it arrives. */
	static Response response(Request request, ClientHttpResponse answer) {
		Headers.Builder headers = new Headers.Builder();
		answer.getHeaders().forEach((name, values) -> values.forEach((value) -> headers.addUnsafeNonAscii(name, value)));
		String contentType = answer.getHeaders().getFirst(HttpHeaders.CONTENT_TYPE);
		long length = answer.getHeaders().getContentLength();
		ResponseBody body = ResponseBody.create(Okio.buffer(Okio.source(BlockingExchange.body(answer))),
				(contentType != null) ? MediaType.parse(contentType) : null, length);
		return new Response.Builder().request(request)
			.protocol(Protocol.HTTP_1_1)
			.code(answer.getStatusCode().value())
			.message("")
			.headers(headers.build())
			.body(body)
			.build();
	}

	/** Close the attempts' idle connections. */
	@Override
	public void close() {
		if (this.attempts != null) {
			this.attempts.connectionPool().evictAll();
		}
	}

}
