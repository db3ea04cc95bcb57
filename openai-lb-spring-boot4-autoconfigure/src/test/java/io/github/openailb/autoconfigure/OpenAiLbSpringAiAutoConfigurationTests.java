package io.github.openailb.autoconfigure;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import com.sun.net.httpserver.HttpServer;

import io.github.openailb.openai.BalancingOkHttpInterceptor;
import io.github.openailb.transport.BalancingClientHttpConnector;
import okhttp3.Interceptor;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.ai.openai.http.okhttp.OpenAiHttpClientBuilderCustomizer;
import org.springframework.ai.openai.http.okhttp.SpringAiOpenAiHttpClient;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.util.StringUtils;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(OutputCaptureExtension.class)
class OpenAiLbSpringAiAutoConfigurationTests {

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(OpenAiLbAutoConfiguration.class, OpenAiLbSpringAiAutoConfiguration.class))
		.withPropertyValues("openai.lb.backends[0].name=a", "openai.lb.backends[0].url=http://127.0.0.1:9");

	@Test
	void endsTheSdksOkHttpChainInTheBalancer() {
		this.runner.run((context) -> {
			assertThat(context).hasSingleBean(BalancingOkHttpInterceptor.class)
				.hasSingleBean(OpenAiHttpClientBuilderCustomizer.class);
			SpringAiOpenAiHttpClient.Builder builder = SpringAiOpenAiHttpClient.builder();
			context.getBean(OpenAiHttpClientBuilderCustomizer.class).customize(builder);
			List<Interceptor> interceptors = new ArrayList<>(builder.build().getOkHttpClient().interceptors());
			assertThat(interceptors.get(interceptors.size() - 1))
				.isSameAs(context.getBean(BalancingOkHttpInterceptor.class));
		});
	}

	@Test
	void attemptsGoOutWithOkHttpUnlessTheApplicationCustomizesTheReactorNettyClientOfTheAttempts() throws Exception {
		HttpServer backend = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
		List<String> agents = new CopyOnWriteArrayList<>();
		backend.createContext("/", (exchange) -> {
			agents.add(exchange.getRequestHeaders().getFirst("User-Agent"));
			exchange.sendResponseHeaders(200, 2);
			exchange.getResponseBody().write("{}".getBytes(StandardCharsets.UTF_8));
			exchange.close();
		});
		backend.start();
		try {
			ApplicationContextRunner toBackend = this.runner.withPropertyValues(
					"openai.lb.backends[0].url=http://127.0.0.1:" + backend.getAddress().getPort());
			toBackend.run((context) -> call(context.getBean(BalancingOkHttpInterceptor.class)));
			toBackend.withBean(OpenAiLbHttpClientCustomizer.class, () -> (client) -> client)
				.run((context) -> call(context.getBean(BalancingOkHttpInterceptor.class)));
			assertThat(agents).hasSize(2);
			assertThat(agents.get(0)).startsWith("okhttp/");
			assertThat(agents.get(1)).startsWith("ReactorNetty/");
		}
		finally {
			backend.stop(0);
		}
	}

	private static void call(BalancingOkHttpInterceptor interceptor) throws IOException {
		OkHttpClient client = new OkHttpClient.Builder().addInterceptor(interceptor).build();
		Request request = new Request.Builder().url(BalancingClientHttpConnector.BASE_URL + "/v1/models").build();
		try (Response response = client.newCall(request).execute()) {
			assertThat(response.code()).isEqualTo(200);
			assertThat(response.body().string()).isEqualTo("{}");
		}
	}

	@Test
	void backsOffWithoutSpringAiOpenAi() {
		this.runner.withClassLoader(new FilteredClassLoader(OpenAiHttpClientBuilderCustomizer.class))
			.run((context) -> assertThat(context).hasNotFailed().doesNotHaveBean(BalancingOkHttpInterceptor.class));
	}

	@Test
	void backsOffWhenTheBalancerIsOff() {
		this.runner.withPropertyValues("openai.lb.enabled=false")
			.run((context) -> assertThat(context).hasNotFailed().doesNotHaveBean(BalancingOkHttpInterceptor.class));
	}

	@Test
	void baseUrlsOfTheUsersOwnAreWarnedOfOnceByNameOnly(CapturedOutput output) {
		this.runner
			.withPropertyValues("spring.ai.openai.base-url=https://me:s3cret@mine.example.com/v1",
					"spring.ai.openai.chat.base-url=http://127.0.0.1:8080/v1",
					"spring.ai.openai.embedding.base-url=http://openai-lb/v1")
			.run((context) -> assertThat(context).hasNotFailed());
		assertThat(StringUtils.countOccurrencesOf(output.getAll(), "are not balanced")).isEqualTo(1);
		assertThat(output.getAll()).contains("WARN")
			.contains("configured by spring.ai.openai.base-url, spring.ai.openai.chat.base-url are not balanced")
			.contains("(or set each to http://openai-lb)")
			.doesNotContain("spring.ai.openai.embedding.base-url")
			.doesNotContain("s3cret")
			.doesNotContain("mine.example.com");
	}

	@Test
	void noWarningWhenSpringAiUsesTheBalancer(CapturedOutput output) {
		this.runner.run((context) -> assertThat(context).hasNotFailed());
		this.runner.withPropertyValues("spring.ai.openai.base-url=http://openai-lb/v1")
			.run((context) -> assertThat(context).hasNotFailed());
		assertThat(output.getAll()).doesNotContain("are not balanced");
	}

}
