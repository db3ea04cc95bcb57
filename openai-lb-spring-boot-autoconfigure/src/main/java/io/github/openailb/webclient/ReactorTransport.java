package io.github.openailb.webclient;

import java.time.Duration;
import java.util.function.UnaryOperator;

import io.netty.channel.ChannelOption;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

import org.springframework.http.client.reactive.ClientHttpConnector;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;

/**
 * The Reactor Netty connector that sends attempts to backends, with its own connection pool.
 */
public final class ReactorTransport {

	private ReactorTransport() {
	}

	/**
	 * Create the transport.
	 * @param connectTimeout longest wait for a connection
	 * @param responseTimeout longest silence while reading a response; also ends a stream that
	 * stalls after it started
	 * @param customizer last say on the Reactor Netty client (proxy, TLS, wiretap)
	 * @return the connector
	 */
	public static ClientHttpConnector create(Duration connectTimeout, Duration responseTimeout,
			UnaryOperator<HttpClient> customizer) {
		ConnectionProvider pool = ConnectionProvider.builder("openai-lb")
			.maxConnections(500)
			.pendingAcquireMaxCount(-1)
			.pendingAcquireTimeout(connectTimeout.plus(responseTimeout))
			.maxIdleTime(Duration.ofSeconds(30))
			.build();
		HttpClient client = HttpClient.create(pool)
			.option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()))
			.responseTimeout(responseTimeout);
		return new ReactorClientHttpConnector(customizer.apply(client));
	}

}
