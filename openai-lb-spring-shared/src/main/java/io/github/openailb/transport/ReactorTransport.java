package io.github.openailb.transport;

import java.net.URI;
import java.time.Duration;
import java.util.function.Function;
import java.util.function.UnaryOperator;

import io.netty.channel.ChannelOption;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;
import reactor.netty.resources.LoopResources;

import org.springframework.http.HttpMethod;
import org.springframework.http.client.reactive.ClientHttpConnector;
import org.springframework.http.client.reactive.ClientHttpRequest;
import org.springframework.http.client.reactive.ClientHttpResponse;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;

/**
 * The Reactor Netty connector that sends attempts to backends, with a connection pool and event
 * loops of its own that {@link #close()} releases once the exchanges under way have ended. Its
 * own, not Reactor Netty's global ones: the application's {@code ReactorResourceFactory} (Boot
 * defines one with WebFlux) disposes those when the context closes, before this transport is
 * closed, which would cut balanced calls still in flight.
 */
public final class ReactorTransport implements ClientHttpConnector, AutoCloseable {

	/** Longest wait, on close, for exchanges under way to end before their connections are cut. */
	static final Duration CLOSE_GRACE = Duration.ofSeconds(30);

	/** Prefix of the names of the event-loop threads. */
	public static final String THREAD_PREFIX = "openai-lb-http";

	private final ConnectionProvider pool;

	private final LoopResources loops;

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
			.disposeTimeout(CLOSE_GRACE)
			.build();
		this.loops = SharedLoops.acquire();
		HttpClient client = HttpClient.create(this.pool)
			.runOn(this.loops)
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

	/**
	 * Stop taking new exchanges, wait up to 30 seconds for those under
	 * way to release their connections, then release the connections and the event loops.
	 */
	@Override
	public synchronized void close() {
		if (this.closed) {
			return;
		}
		this.closed = true;
		this.pool.disposeLater()
			.onErrorComplete()
			.then(SharedLoops.release(this.loops))
			.block(CLOSE_GRACE.plusSeconds(10));
	}

	/**
	 * One set of event loops for every transport of the JVM (the balanced one, a pass-through,
	 * those of other application contexts): a set per transport would put several times the cores'
	 * worth of threads on the same CPUs. Released with the last transport using it.
	 */
	private static final class SharedLoops {

		private static LoopResources loops;

		private static int users;

		private SharedLoops() {
		}

		static synchronized LoopResources acquire() {
			if (users++ == 0) {
				loops = LoopResources.create(THREAD_PREFIX, LoopResources.DEFAULT_IO_WORKER_COUNT, true);
			}
			return loops;
		}

		static synchronized Mono<Void> release(LoopResources used) {
			if (--users == 0 && loops == used) {
				loops = null;
				return used.disposeLater(Duration.ZERO, Duration.ofSeconds(5));
			}
			return Mono.empty();
		}

	}

}
