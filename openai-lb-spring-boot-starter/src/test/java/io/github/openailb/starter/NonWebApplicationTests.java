package io.github.openailb.starter;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.context.annotation.Configuration;
import org.springframework.util.ClassUtils;
import org.springframework.web.client.RestClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An application that adds only this starter, on the starter's real classpath: it stays a
 * non-web application (no WebFlux, so Boot deduces no reactive server), starts, and its
 * balanced {@code RestClient} works.
 */
class NonWebApplicationTests {

	private HttpServer backend;

	@BeforeEach
	void startBackend() throws IOException {
		this.backend = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
		this.backend.createContext("/", (exchange) -> {
			exchange.getRequestBody().readAllBytes();
			byte[] body = "{\"from\":\"backend\"}".getBytes(StandardCharsets.UTF_8);
			exchange.getResponseHeaders().add("Content-Type", "application/json");
			exchange.sendResponseHeaders(200, body.length);
			try (OutputStream out = exchange.getResponseBody()) {
				out.write(body);
			}
		});
		this.backend.start();
	}

	@AfterEach
	void stopBackend() {
		this.backend.stop(0);
	}

	@Test
	void staysNonWebStartsAndBalances() {
		assertThat(ClassUtils.isPresent("org.springframework.web.reactive.DispatcherHandler", null))
			.as("spring-webflux on the starter's classpath")
			.isFalse();
		SpringApplication application = new SpringApplication(Application.class);
		assertThat(application.getWebApplicationType()).isEqualTo(WebApplicationType.NONE);
		try (ConfigurableApplicationContext context = application.run("--openai.lb.backends[0].name=a",
				"--openai.lb.backends[0].url=http://127.0.0.1:" + this.backend.getAddress().getPort(),
				"--spring.main.banner-mode=off")) {
			// a web application would have a server context
			assertThat(context).isExactlyInstanceOf(AnnotationConfigApplicationContext.class);
			assertThat(context.containsBean("openAiLbWebClient")).isFalse();
			String answer = context.getBean("openAiLbRestClient", RestClient.class)
				.post()
				.uri("/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21")
				.body("{}")
				.retrieve()
				.body(String.class);
			assertThat(answer).contains("backend");
		}
	}

	@Configuration(proxyBeanMethods = false)
	@EnableAutoConfiguration
	static class Application {

	}

}
