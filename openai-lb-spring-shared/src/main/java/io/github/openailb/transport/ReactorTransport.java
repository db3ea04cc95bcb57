package io.github.openailb.transport;

import java.net.URI;
import java.time.Duration;
import java.util.function.Function;
import java.util.function.UnaryOperator;

import io.netty.channel.ChannelOption;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

import org.springframework.http.HttpMethod;
import org.springframework.http.client.reactive.ClientHttpConnector;
import org.springframework.http.client.reactive.ClientHttpRequest;
import org.springframework.http.client.reactive.ClientHttpResponse;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;

/**
 * The Reactor Netty connector that sends attempts to backends, with a connection pool of its own
 * that {@link #close()} releases.
 */
public final class ReactorTransport implements ClientHttpConnector, AutoCloseable {

	private final ConnectionProvider pool;

	private final ClientHttpConnector connector;

	private volatile boolean closed;

	/**
	 * Create the transport.
	 * @param connectTimeout longest wait for a connection
	 * @param responseTimeout longest silence while reading a response; also ends a stream that
	 * stalls after it started
	 * @param customizer last say on the Reactor Netty client (proxy, TLS, wiretap)
	 */
	public ReactorTransport(Duration connectTimeout, Duration responseTimeout, UnaryOperator<HttpClient> customizer) {
		this.pool = ConnectionProvider.builder("openai-lb")
			.maxConnections(500)
			.pendingAcquireMaxCount(-1)
			.pendingAcquireTimeout(connectTimeout.plus(responseTimeout))
			.maxIdleTime(Duration.ofSeconds(30))
			.build();
		HttpClient client = HttpClient.create(this.pool)
			.option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()))
			.responseTimeout(responseTimeout);
		this.connector = new ReactorClientHttpConnector(customizer.apply(client));
	}

	@Override
	public Mono<ClientHttpResponse> connect(HttpMethod method, URI uri,
			Function<? super ClientHttpRequest, Mono<Void>> requestCallback) {
		return this.connector.connect(method, uri, requestCallback);
	}

	/**
	 * Whether the connection pool has been released.
	 * @return {@code true} after {@link #close()}
	 */
	public boolean isClosed() {
		return this.closed;
	}

	@Override
	public void close() {
		this.closed = true;
		this.pool.dispose();
	}

}
