package io.github.openailb.restclient;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;

import io.github.openailb.transport.BalancingClientHttpConnector;
import io.github.openailb.transport.BlockingExchange;
import reactor.core.scheduler.Schedulers;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.client.AbstractClientHttpRequest;
import org.springframework.http.client.ClientHttpRequest;
import org.springframework.http.client.ClientHttpRequestFactory;
import org.springframework.http.client.ClientHttpResponse;
import org.springframework.util.FastByteArrayOutputStream;

/**
 * Balances the blocking calls of a {@code RestClient} or {@code RestTemplate}: a request aimed at
 * the logical host {@value BalancingClientHttpConnector#LOGICAL_HOST} is sent through the shared
 * {@link BalancingClientHttpConnector} (same engine, same state as the reactive clients) and the
 * calling thread waits for the answer; any other request is created by the application's own
 * factory, untouched (streamed or buffered as that factory does it). Only balanced request bodies
 * are held, since they are replayed on failover. The response body is streamed to the caller as it
 * arrives. Like Reactor's {@code block()}, it refuses to wait on a non-blocking thread (an event
 * loop), which would stall every connection served by that thread.
 */
public final class BalancingClientHttpRequestFactory implements ClientHttpRequestFactory {

	private final BalancingClientHttpConnector connector;

	private final ClientHttpRequestFactory delegate;

	/**
	 * Create a factory.
	 * @param connector the shared balanced transport
	 * @param delegate creates every request not aimed at the logical host
	 */
	public BalancingClientHttpRequestFactory(BalancingClientHttpConnector connector,
			ClientHttpRequestFactory delegate) {
		this.connector = connector;
		this.delegate = delegate;
	}

	@Override
	public ClientHttpRequest createRequest(URI uri, HttpMethod httpMethod) throws IOException {
		if (!BalancingClientHttpConnector.isBalanced(uri)) {
			return this.delegate.createRequest(uri, httpMethod);
		}
		return new BalancedRequest(this.connector, uri, httpMethod);
	}

	/** A request to the logical host: its body is held to be replayed on each attempt. */
	private static final class BalancedRequest extends AbstractClientHttpRequest {

		private final BalancingClientHttpConnector connector;

		private final URI uri;

		private final HttpMethod method;

		private final FastByteArrayOutputStream body = new FastByteArrayOutputStream(1024);

		BalancedRequest(BalancingClientHttpConnector connector, URI uri, HttpMethod method) {
			this.connector = connector;
			this.uri = uri;
			this.method = method;
		}

		@Override
		public HttpMethod getMethod() {
			return this.method;
		}

		@Override
		public URI getURI() {
			return this.uri;
		}

		@Override
		protected OutputStream getBodyInternal(HttpHeaders headers) {
			return this.body;
		}

		@Override
		protected ClientHttpResponse executeInternal(HttpHeaders headers) throws IOException {
			if (Schedulers.isInNonBlockingThread()) {
				throw new IllegalStateException("A balanced RestClient call waits for its answer, which is not "
						+ "supported on the non-blocking thread " + Thread.currentThread().getName() + "; use the "
						+ "balanced WebClient there, or make the call on a blocking thread (e.g. "
						+ "Schedulers.boundedElastic())");
			}
			String path = this.uri.getRawPath();
			String query = this.uri.getRawQuery();
			org.springframework.http.client.reactive.ClientHttpResponse response = BlockingExchange.exchange(
					this.connector, this.method, (query != null) ? path + "?" + query : path, headers,
					this.body.toByteArrayUnsafe(), () -> false);
			return new StreamedResponse(response);
		}

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
