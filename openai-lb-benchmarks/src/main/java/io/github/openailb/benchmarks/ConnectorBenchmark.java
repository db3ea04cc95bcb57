package io.github.openailb.benchmarks;

import java.net.URI;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import io.github.openailb.auth.ApiKeyCredentials;
import io.github.openailb.core.BalancerConfig;
import io.github.openailb.core.LoadBalancer;
import io.github.openailb.transport.BalancingClientHttpConnector;
import io.github.openailb.transport.TransportConfig;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import reactor.core.publisher.Mono;

import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.MediaType;
import org.springframework.http.client.reactive.ClientHttpRequest;
import org.springframework.http.client.reactive.ClientHttpResponse;

/**
 * Figure 1b: the CPU the balanced reactive connector spends on one request, around the engine:
 * capture of headers and body, credentials, URL rewrite, the attempt's Reactor pipeline and the
 * first-byte check, over a transport that answers from memory (no network, no stub). The same
 * request written straight to that transport ({@link #direct()}) and through the connector to a
 * URL it does not balance ({@link #passThrough()}) give what the balancer adds: balanced minus
 * direct, and nothing at all for a call it does not balance.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ConnectorBenchmark {

	private static final URI BALANCED = URI.create(BalancingClientHttpConnector.BASE_URL + Stub.PATH);

	private static final URI DIRECT = URI.create("https://a.example.com" + Stub.PATH);

	private BalancingClientHttpConnector connector;

	private InMemoryTransport transport;

	private HttpHeaders headers;

	private Function<ClientHttpRequest, Mono<Void>> writer;

	/** Three backends in one tier, each with a key, over the in-memory transport. */
	@Setup
	public void setUp() {
		BalancerConfig config = Clients.config(new String[] { "a", "b", "c" },
				new String[] { "https://a.example.com", "https://b.example.com", "https://c.example.com" },
				new int[] { 1, 1, 1 })
			.build();
		this.transport = new InMemoryTransport();
		this.connector = new BalancingClientHttpConnector(LoadBalancer.builder(config).build(), this.transport,
				new ApiKeyCredentials(config.backends()),
				TransportConfig.builder().responseTimeout(Duration.ofSeconds(60)).build(), this.transport);
		this.headers = new HttpHeaders();
		this.headers.setContentType(MediaType.APPLICATION_JSON);
		this.headers.set("api-key", Clients.KEY);
		this.headers.set("user-agent", "bench");
		// what WebClient does with a byte[] body: the headers, then the bytes wrapped
		this.writer = (request) -> {
			request.getHeaders().putAll(this.headers);
			return request.writeWith(Mono.fromSupplier(() -> request.bufferFactory().wrap(Stub.REQUEST)));
		};
	}

	/**
	 * One balanced request answered 200, its body read.
	 * @return the body's size
	 */
	@Benchmark
	public int balancedRequest() {
		return read(this.connector.exchange(HttpMethod.POST, Stub.PATH, this.headers, Stub.REQUEST).block());
	}

	/**
	 * The same request as a client writes it, to {@value BalancingClientHttpConnector#BASE_URL}
	 * through the connector: capture, then {@link #balancedRequest()}.
	 * @return the body's size
	 */
	@Benchmark
	public int balanced() {
		return read(this.connector.connect(HttpMethod.POST, BALANCED, this.writer).block());
	}

	/**
	 * The same request written straight to the transport: the baseline.
	 * @return the body's size
	 */
	@Benchmark
	public int direct() {
		return read(this.transport.connect(HttpMethod.POST, DIRECT, this.writer).block());
	}

	/**
	 * The same request through the connector to a URL it does not balance: should cost what
	 * {@link #direct()} costs.
	 * @return the body's size
	 */
	@Benchmark
	public int passThrough() {
		return read(this.connector.connect(HttpMethod.POST, DIRECT, this.writer).block());
	}

	private static int read(ClientHttpResponse response) {
		return response.getBody().map((buffer) -> {
			int size = buffer.readableByteCount();
			DataBufferUtils.release(buffer);
			return size;
		}).reduce(0, Integer::sum).block();
	}

}
