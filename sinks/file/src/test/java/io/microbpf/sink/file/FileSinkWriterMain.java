package io.microbpf.sink.file;

import io.microbpf.api.Event;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Child process for the kill test: writes batches of {@link Sample#wide} events through a FileSink
 * until it is killed. Args: directory, first seq, and optionally {@code unpadded} (the earlier layout:
 * no padding, one write per batch; for a manual control run only).
 */
public final class FileSinkWriterMain {
    public static void main(String[] args) throws Exception {
        FileSink.Settings settings = new FileSink.Settings(Path.of(args[0]), "events", 0, 0, 0, false, "never", 1000, Set.of());
        boolean unpadded = args.length > 2 && args[2].equals("unpadded");
        FileSink sink = unpadded
                ? new FileSink(settings, System::currentTimeMillis, PageLayout.systemPageBytes(), false, Integer.MAX_VALUE)
                : new FileSink(settings);
        long seq = Long.parseLong(args[1]);
        System.out.println("writing");
        System.out.flush();
        while (true) {
            List<Event> batch = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                batch.add(Sample.wide(seq++));
            }
            sink.deliver(batch);
        }
    }
}
