package io.github.openailb.benchmarks;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.function.UnaryOperator;

import io.github.openailb.auth.ApiKeyCredentials;
import io.github.openailb.core.BalancerConfig;
import io.github.openailb.core.LoadBalancer;
import io.github.openailb.restclient.BalancingClientHttpRequestFactory;
import io.github.openailb.transport.BalancingClientHttpConnector;
import io.github.openailb.transport.ReactorTransport;
import io.github.openailb.transport.TransportConfig;
import io.netty.channel.ChannelOption;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

import org.springframework.http.MediaType;
import org.springframework.http.client.ReactorClientHttpRequestFactory;
import org.springframework.web.client.RestClient;
import org.springframework.web.reactive.function.client.WebClient;

/**
 * One balanced {@link RestClient} and one balanced {@link WebClient}, wired as the
 * auto-configuration wires them. Each client is measured against itself: a call to
 * {@value BalancingClientHttpConnector#BASE_URL} is balanced, a call to a stub's own URL passes
 * straight through an equivalent Reactor Netty transport (same pool and timeouts), so the only
 * difference between the two is the balancer.
 */
final class Clients implements AutoCloseable {

	static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);

	static final Duration RESPONSE_TIMEOUT = Duration.ofSeconds(60);

	static final String KEY = "bench-key";

	final LoadBalancer balancer;

	final ReactorTransport transport;

	final ReactorTransport direct;

	final BalancingClientHttpConnector connector;

	final WebClient web;

	final RestClient rest;

	private final ConnectionProvider restPool;

	Clients(BalancerConfig config, Clock clock) {
		this.balancer = LoadBalancer.builder(config).clock(clock).build();
		TransportConfig limits = TransportConfig.builder()
			.connectTimeout(CONNECT_TIMEOUT)
			.responseTimeout(RESPONSE_TIMEOUT)
			.build();
		this.transport = new ReactorTransport(limits, UnaryOperator.identity());
		this.direct = new ReactorTransport(limits, UnaryOperator.identity());
		this.connector = new BalancingClientHttpConnector(this.balancer, this.transport,
				new ApiKeyCredentials(config.backends()), limits, this.direct);
		this.web = WebClient.builder().clientConnector(this.connector).codecs((codecs) -> codecs.defaultCodecs()
			.maxInMemorySize(32 * 1024 * 1024)).build();
		// the same pool settings as ReactorTransport's, for the RestClient's own (direct) calls
		this.restPool = ConnectionProvider.builder("bench-rest")
			.maxConnections(500)
			.pendingAcquireMaxCount(-1)
			.maxIdleTime(Duration.ofSeconds(30))
			.build();
		HttpClient restHttp = HttpClient.create(this.restPool)
			.option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) CONNECT_TIMEOUT.toMillis())
			.responseTimeout(RESPONSE_TIMEOUT);
		this.rest = RestClient.builder()
			.requestFactory(new BalancingClientHttpRequestFactory(this.connector,
					new ReactorClientHttpRequestFactory(restHttp)))
			.build();
	}

	/** The URI a call goes to: balanced, or straight to one stub. */
	static URI target(String baseUrl) {
		return URI.create(baseUrl + Stub.PATH);
	}

	static URI balanced() {
		return target(BalancingClientHttpConnector.BASE_URL);
	}

	/** A blocking chat call; returns the body length. */
	int restCall(URI uri) {
		byte[] body = this.rest.post()
			.uri(uri)
			.contentType(MediaType.APPLICATION_JSON)
			.header("api-key", KEY)
			.body(Stub.REQUEST)
			.retrieve()
			.body(byte[].class);
		return body.length;
	}

	/** A reactive chat call; emits the body length. */
	Mono<Integer> webCall(URI uri) {
		return this.web.post()
			.uri(uri)
			.contentType(MediaType.APPLICATION_JSON)
			.header("api-key", KEY)
			.bodyValue(Stub.REQUEST)
			.retrieve()
			.bodyToMono(byte[].class)
			.map((body) -> body.length);
	}

	/** A reactive chat call answering with its status code, whatever it is. */
	Mono<Integer> webStatus(URI uri) {
		return this.web.post()
			.uri(uri)
			.contentType(MediaType.APPLICATION_JSON)
			.header("api-key", KEY)
			.bodyValue(Stub.REQUEST)
			.retrieve()
			.onStatus((status) -> true, (response) -> Mono.empty())
			.toEntity(byte[].class)
			.map((entity) -> entity.getStatusCode().value());
	}

	@Override
	public void close() {
		this.transport.close();
		this.direct.close();
		this.restPool.dispose();
	}

	/** A balancer configuration whose backends all have a key, in the given tiers. */
	static BalancerConfig.Builder config(String[] names, String[] urls, int[] priorities) {
		BalancerConfig.Builder builder = BalancerConfig.builder();
		for (int i = 0; i < names.length; i++) {
			builder.backend(new BalancerConfig.BackendBuilder().name(names[i])
				.url(urls[i])
				.priority(priorities[i])
				.apiKey(KEY + "-" + i));
		}
		return builder;
	}

}
