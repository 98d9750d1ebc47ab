package io.microbpf.probe.ack;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class TcpConnectionEventJsonTest {
    @Test
    void serialisesWithItsTypeAndParsesBackToTheSameRecord() throws Exception {
        TcpConnectionEvent e = new TcpConnectionEvent("CLOSE", 6, "::1", 40000, "::1", 8080, 4026531840L, 42, "curl",
                99L, 1000, 2000, 5_000_000, "tp_btf/inet_sock_set_state", 123456789L, 1_700_000_000_000_000_000L);
        ObjectMapper json = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
        String text = json.writeValueAsString(e);
        JsonNode tree = json.readTree(text);
        assertEquals("tcp.connection", tree.get("type").asText());
        assertEquals(1000, tree.get("bytesSent").asLong());
        assertEquals(e, json.readValue(text, TcpConnectionEvent.class));
        assertEquals("CLOSE [::1]:40000 -> [::1]:8080 pid=42(curl) sent=1000B rcvd=2000B dur=5.000ms netns=4026531840", e.summary());
    }
}
