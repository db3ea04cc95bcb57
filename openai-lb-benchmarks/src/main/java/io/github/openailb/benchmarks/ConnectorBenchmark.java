package io.github.openailb.benchmarks;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

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

import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.MediaType;
import org.springframework.http.client.reactive.ClientHttpResponse;

/**
 * Figure 1b: the CPU the balanced reactive connector spends on one request, around the engine:
 * capture of headers and body, credentials, URL rewrite, the attempt's Reactor pipeline and the
 * first-byte check, over a transport that answers from memory (no network, no stub).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ConnectorBenchmark {

	private BalancingClientHttpConnector connector;

	private HttpHeaders headers;

	/** Three backends in one tier, each with a key, over the in-memory transport. */
	@Setup
	public void setUp() {
		BalancerConfig config = Clients.config(new String[] { "a", "b", "c" },
				new String[] { "https://a.example.com", "https://b.example.com", "https://c.example.com" },
				new int[] { 1, 1, 1 })
			.build();
		InMemoryTransport transport = new InMemoryTransport();
		this.connector = new BalancingClientHttpConnector(LoadBalancer.builder(config).build(), transport,
				new ApiKeyCredentials(config.backends()),
				TransportConfig.builder().responseTimeout(Duration.ofSeconds(60)).build(), transport);
		this.headers = new HttpHeaders();
		this.headers.setContentType(MediaType.APPLICATION_JSON);
		this.headers.set("api-key", Clients.KEY);
		this.headers.set("user-agent", "bench");
	}

	/**
	 * One balanced request answered 200, its body read.
	 * @return the body's size
	 */
	@Benchmark
	public int balancedRequest() {
		ClientHttpResponse response = this.connector.exchange(HttpMethod.POST, Stub.PATH, this.headers, Stub.REQUEST)
			.block();
		return response.getBody().map((buffer) -> {
			int size = buffer.readableByteCount();
			DataBufferUtils.release(buffer);
			return size;
		}).reduce(0, Integer::sum).block();
	}

}
