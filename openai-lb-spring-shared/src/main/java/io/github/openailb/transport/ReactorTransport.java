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
	 * @param config timeouts and pool sizes; the response timeout is the longest silence while
	 * reading a response, which also ends a stream that stalls after it started
	 * @param customizer last say on the Reactor Netty client (proxy, TLS, wiretap); redirects stay
	 * unfollowed and interim answers filtered whatever it sets
	 */
	public ReactorTransport(TransportConfig config, UnaryOperator<HttpClient> customizer) {
		this.pool = ConnectionProvider.builder("openai-lb")
			.maxConnections(config.maxConnections())
			.pendingAcquireMaxCount(config.maxPendingAcquires())
			.pendingAcquireTimeout(config.connectTimeout().plus(config.responseTimeout()))
			.maxIdleTime(Duration.ofSeconds(30))
			.build();
		HttpClient client = HttpClient.create(this.pool)
			.option(ChannelOption.CONNECT_TIMEOUT_MILLIS,
					(int) Math.min(Integer.MAX_VALUE, config.connectTimeout().toMillis()))
			.responseTimeout(config.responseTimeout());
		// a followed redirect would carry the backend's key to wherever Location points
		HttpClient safe = customizer.apply(client)
			.followRedirect(false)
			.doOnChannelInit((observer, channel, address) -> InterimResponseFilter.install(channel.pipeline()));
		this.connector = new ReactorClientHttpConnector(safe);
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
