package io.github.openailb.restclient;

import java.io.IOException;
import java.io.InputStream;

import io.github.openailb.transport.BalancingClientHttpConnector;
import io.github.openailb.transport.BlockingExchange;
import reactor.core.scheduler.Schedulers;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpRequest;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.client.ClientHttpRequestExecution;
import org.springframework.http.client.ClientHttpRequestInterceptor;
import org.springframework.http.client.ClientHttpResponse;
import org.springframework.web.client.RestClient;

/**
 * Balances the blocking calls of a {@code RestClient} or {@code RestTemplate}: a request aimed at
 * the logical host {@value BalancingClientHttpConnector#LOGICAL_HOST} is sent through the shared
 * {@link BalancingClientHttpConnector} (same engine, same state as the reactive clients) and the
 * calling thread waits for the answer; any other request continues down the chain untouched.
 * The response body is streamed to the caller as it arrives. Like Reactor's {@code block()}, it
 * refuses to wait on a non-blocking thread (an event loop), which would stall every connection
 * served by that thread.
 */
public final class BalancingClientHttpRequestInterceptor implements ClientHttpRequestInterceptor {

	private final BalancingClientHttpConnector connector;

	/**
	 * Create an interceptor.
	 * @param connector the shared balanced transport
	 */
	public BalancingClientHttpRequestInterceptor(BalancingClientHttpConnector connector) {
		this.connector = connector;
	}

	/**
	 * Add this interceptor to a builder, last and once, so that the builder's clients balance
	 * their calls to the logical host.
	 * @param builder the builder
	 * @return the builder
	 */
	public RestClient.Builder applyTo(RestClient.Builder builder) {
		return builder.requestInterceptors((interceptors) -> {
			if (!interceptors.contains(this)) {
				interceptors.add(this);
			}
		});
	}

	@Override
	public ClientHttpResponse intercept(HttpRequest request, byte[] body, ClientHttpRequestExecution execution)
			throws IOException {
		if (!BalancingClientHttpConnector.isBalanced(request.getURI())) {
			return execution.execute(request, body);
		}
		if (Schedulers.isInNonBlockingThread()) {
			throw new IllegalStateException("A balanced RestClient call waits for its answer, which is not supported "
					+ "on the non-blocking thread " + Thread.currentThread().getName() + "; use the balanced "
					+ "WebClient there, or make the call on a blocking thread (e.g. Schedulers.boundedElastic())");
		}
		String path = request.getURI().getRawPath();
		String query = request.getURI().getRawQuery();
		org.springframework.http.client.reactive.ClientHttpResponse response = BlockingExchange.exchange(this.connector,
				request.getMethod(), (query != null) ? path + "?" + query : path, request.getHeaders(), body,
				() -> false);
		return new StreamedResponse(response);
	}

	/** A reactive answer read by a blocking caller. */
	private static final class StreamedResponse implements ClientHttpResponse {

		private final org.springframework.http.client.reactive.ClientHttpResponse response;

		private InputStream body;

		StreamedResponse(org.springframework.http.client.reactive.ClientHttpResponse response) {
			this.response = response;
		}

		@Override
		public HttpStatusCode getStatusCode() {
			return this.response.getStatusCode();
		}

		@Override
		public String getStatusText() {
			return "";
		}

		@Override
		public HttpHeaders getHeaders() {
			return this.response.getHeaders();
		}

		@Override
		public synchronized InputStream getBody() {
			if (this.body == null) {
				this.body = BlockingExchange.body(this.response);
			}
			return this.body;
		}

		@Override
		public synchronized void close() {
			try {
				getBody().close();
			}
			catch (IOException ex) {
				// closing cancels the body; nothing else to release
			}
		}

	}

}
