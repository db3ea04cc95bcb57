package io.github.openailb.restclient;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;

import io.github.openailb.webclient.BalancingClientHttpConnector;
import reactor.core.scheduler.Schedulers;

import org.springframework.core.io.buffer.DataBufferUtils;
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
		org.springframework.http.client.reactive.ClientHttpResponse response;
		java.util.concurrent.CompletableFuture<org.springframework.http.client.reactive.ClientHttpResponse> answer = this.connector
			.exchange(request.getMethod(), (query != null) ? path + "?" + query : path, request.getHeaders(), body)
			.toFuture();
		try {
			response = answer.get();
		}
		catch (InterruptedException ex) {
			// the caller gave up: cancel the attempt so its connection closes and no backend is blamed
			answer.cancel(true);
			Thread.currentThread().interrupt();
			throw new InterruptedIOException("Interrupted while waiting for a balanced answer");
		}
		catch (java.util.concurrent.ExecutionException ex) {
			Throwable cause = ex.getCause();
			if (cause instanceof IOException io) {
				throw io;
			}
			throw new IOException(cause.getMessage(), cause);
		}
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
				this.body = DataBufferUtils.subscriberInputStream(this.response.getBody(), 4);
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
