package io.github.openailb.autoconfigure;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.github.openailb.testsupport.Awaits;
import io.github.openailb.testsupport.BootLine;
import io.github.openailb.testsupport.LoopbackBackends;
import io.github.openailb.testsupport.RawBackend;
import io.github.openailb.transport.BalancingClientHttpConnector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.http.client.ClientHttpRequestFactoryBuilder;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.http.client.ClientHttpRequestFactory;
import org.springframework.http.client.SimpleClientHttpRequestFactory;
import org.springframework.http.client.reactive.ClientHttpConnector;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;
import org.springframework.web.client.RestClient;
import org.springframework.web.reactive.function.client.WebClient;

import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Only what is aimed at the balancer is balanced: the application's other calls, through the same
 * {@code RestClient.Builder} and {@code WebClient.Builder}, keep the application's own request
 * factory or connector, get no interceptor and are not held in memory; a factory or connector the
 * application sets in its own customizer is kept. Over real loopback calls.
 */
class ApplicationClientsUntouchedTests {

	private static final String CHAT = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";

	@RegisterExtension
	final LoopbackBackends backends = new LoopbackBackends();

	private final List<URI> created = new CopyOnWriteArrayList<>();

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(BootLine.REST_CLIENT))
		.withConfiguration(AutoConfigurations.of(BootLine.WEB_CLIENT))
		.withConfiguration(AutoConfigurations.of(OpenAiLbAutoConfiguration.class, OpenAiLbClientsAutoConfiguration.class))
		.withPropertyValues("openai.lb.response-timeout=20s", "openai.lb.connect-timeout=5s");

	@Test
	void otherRestClientCallsGoThroughTheApplicationsFactoryWithNoInterceptor() {
		WireMockServer backend = ok(this.backends.start(), "backend");
		WireMockServer elsewhere = ok(this.backends.start(), "elsewhere");
		// Boot's way of choosing the application's factory: a ClientHttpRequestFactoryBuilder bean
		ClientHttpRequestFactoryBuilder<ClientHttpRequestFactory> applicationFactory = (settings) -> recording(
				new SimpleClientHttpRequestFactory());
		this.runner.withBean(ClientHttpRequestFactoryBuilder.class, () -> applicationFactory)
			.withPropertyValues(backend(backend))
			.run((context) -> {
				RestClient.Builder builder = context.getBean(RestClient.Builder.class);
				builder.requestInterceptors((interceptors) -> assertThat(interceptors).isEmpty());
				assertThat(builder.build().post().uri(elsewhere.baseUrl() + "/v1/things").body("{}").retrieve()
					.body(String.class)).contains("elsewhere");
				assertThat(this.created).containsExactly(URI.create(elsewhere.baseUrl() + "/v1/things"));
				// the same builder aimed at the balancer is balanced, without the application's factory
				assertThat(builder.baseUrl(BalancingClientHttpConnector.BASE_URL).build().post().uri(CHAT).body("{}")
					.retrieve().body(String.class)).contains("backend");
				assertThat(this.created).hasSize(1);
				assertThat(backend.getAllServeEvents()).hasSize(1);
			});
	}

	@Test
	void aStreamedRequestBodyToAnotherHostIsSentAsItIsWrittenNotHeld() throws Exception {
		int firstPart = 256 * 1024;
		AtomicInteger received = new AtomicInteger();
		try (RawBackend elsewhere = new RawBackend((socket) -> readChunkedBodyThenAnswer(socket, received))) {
			this.runner.withPropertyValues("openai.lb.backends[0].name=a", "openai.lb.backends[0].url=http://127.0.0.1:9")
				.run((context) -> {
					String answer = context.getBean(RestClient.Builder.class)
						.build()
						.post()
						.uri(elsewhere.url() + "/upload")
						.body((out) -> {
							out.write(new byte[firstPart]);
							out.flush();
							// a held body would reach the server only after this lambda returned
							Awaits.until(Duration.ofSeconds(20), () -> received.get() >= firstPart,
									"the first part reached the server while the body was still being written");
							out.write("end".getBytes(StandardCharsets.US_ASCII));
						})
						.retrieve()
						.body(String.class);
					assertThat(answer).isEqualTo("ok");
				});
		}
	}

	@Test
	void aRequestFactorySetByTheApplicationsCustomizerIsKept() {
		WireMockServer backend = ok(this.backends.start(), "backend");
		WireMockServer elsewhere = ok(this.backends.start(), "elsewhere");
		ClientHttpRequestFactory own = recording(new SimpleClientHttpRequestFactory());
		BootLine.withRestClientCustomizer(this.runner, (builder) -> builder.requestFactory(own))
			.withPropertyValues(backend(backend))
			.run((context) -> {
				assertThat(context.getBean(RestClient.Builder.class).build().post().uri(elsewhere.baseUrl() + "/v1/x")
					.body("{}").retrieve().body(String.class)).contains("elsewhere");
				assertThat(this.created).containsExactly(URI.create(elsewhere.baseUrl() + "/v1/x"));
				assertBalancedBeansStillBalance(context);
			});
	}

	@Test
	void aConnectorSetByTheApplicationsCustomizerIsKept() {
		WireMockServer backend = ok(this.backends.start(), "backend");
		WireMockServer elsewhere = ok(this.backends.start(), "elsewhere");
		ReactorClientHttpConnector reactor = new ReactorClientHttpConnector();
		ClientHttpConnector own = (method, uri, callback) -> {
			this.created.add(uri);
			return reactor.connect(method, uri, callback);
		};
		BootLine.withWebClientCustomizer(this.runner, (builder) -> builder.clientConnector(own))
			.withPropertyValues(backend(backend))
			.run((context) -> {
				assertThat(context.getBean(WebClient.Builder.class).build().post().uri(elsewhere.baseUrl() + "/v1/x")
					.bodyValue("{}").retrieve().bodyToMono(String.class).block(Duration.ofSeconds(20)))
					.contains("elsewhere");
				assertThat(this.created).containsExactly(URI.create(elsewhere.baseUrl() + "/v1/x"));
				assertBalancedBeansStillBalance(context);
			});
	}

	private static void assertBalancedBeansStillBalance(AssertableApplicationContext context) {
		assertThat(context.getBean("openAiLbRestClient", RestClient.class).post().uri(CHAT).body("{}").retrieve()
			.body(String.class)).contains("backend");
		assertThat(context.getBean("openAiLbWebClient", WebClient.class).post().uri(CHAT).bodyValue("{}").retrieve()
			.bodyToMono(String.class).block(Duration.ofSeconds(20))).contains("backend");
	}

	private ClientHttpRequestFactory recording(ClientHttpRequestFactory factory) {
		return (uri, method) -> {
			this.created.add(uri);
			return factory.createRequest(uri, method);
		};
	}

	/** Count the body's bytes as they arrive, up to the last chunk, then answer "ok". */
	private static void readChunkedBodyThenAnswer(Socket socket, AtomicInteger received) throws IOException {
		InputStream in = socket.getInputStream();
		ByteArrayOutputStream tail = new ByteArrayOutputStream();
		byte[] buffer = new byte[8192];
		int read;
		while ((read = in.read(buffer)) != -1) {
			received.addAndGet(read);
			tail.write(buffer, 0, read);
			String last = tail.toString(StandardCharsets.ISO_8859_1);
			if (last.contains("end") && last.endsWith("0\r\n\r\n")) {
				break;
			}
			if (tail.size() > 64) {
				byte[] keep = tail.toByteArray();
				tail.reset();
				tail.write(keep, keep.length - 64, 64);
			}
		}
		socket.getOutputStream()
			.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
				.getBytes(StandardCharsets.US_ASCII));
		socket.getOutputStream().flush();
	}

	private static String[] backend(WireMockServer server) {
		return new String[] { "openai.lb.backends[0].name=backend", "openai.lb.backends[0].url=" + server.baseUrl() };
	}

	private static WireMockServer ok(WireMockServer server, String name) {
		server.stubFor(post(anyUrl()).willReturn(okJson("{\"from\":\"" + name + "\"}")));
		return server;
	}

}
