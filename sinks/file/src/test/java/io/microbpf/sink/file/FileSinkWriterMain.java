package io.microbpf.sink.file;

import io.microbpf.api.Event;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** Child process for the kill test: writes batches through a FileSink until it is killed. Args: directory, first seq. */
public final class FileSinkWriterMain {
    public static void main(String[] args) throws Exception {
        FileSink sink = new FileSink(new FileSink.Settings(Path.of(args[0]), "events", 0, 0, 0, false, "never", 1000, Set.of()));
        long seq = Long.parseLong(args[1]);
        System.out.println("writing");
        System.out.flush();
        while (true) {
            List<Event> batch = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                batch.add(Sample.of(seq++));
            }
            sink.deliver(batch);
        }
    }
}
