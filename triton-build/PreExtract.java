import java.io.File;
import java.io.IOException;
import java.net.URL;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.bytedeco.javacpp.Loader;

/**
 * Fills JavaCPP's cache directory at image build time, so that the server (running as a user who
 * cannot write there) never extracts anything at start.
 *
 * <p>Why it exists: JavaCPP extracts each native library from its jar into {@code
 * <cacheDir>/<jar name>/<entry directory>/} on first load, and re-extracts only when the file's
 * size or modification time differs from the jar entry's. Step 1 calls {@link
 * Loader#cacheResource(URL)} for every native library in every jar of the class path: the same
 * call, and so the same file names and timestamps, that {@code Loader.load} uses; it needs no GPU
 * and loads nothing. Step 2 loads the classes named on the command line, as the backend does, so
 * that JavaCPP also creates the symbolic links it makes after a successful load; a load that fails
 * here (no GPU, no CUDA libraries, no libtritonserver.so in this process) is reported, not fatal:
 * its files were extracted in step 1.
 *
 * <p>Usage (triton-build/preextract.sh runs it with the backend's jvm.options):
 * {@code java -Dorg.bytedeco.javacpp.cacheDir=DIR -cp 'TOOLS:BACKEND/*' PreExtract CLASS...}
 */
public final class PreExtract {
  private PreExtract() {}

  public static void main(String[] args) throws IOException {
    File cache = Loader.getCacheDir();
    int files = 0;
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      if (!entry.endsWith(".jar")) {
        continue;
      }
      File jar = new File(entry).getAbsoluteFile();
      for (String name : nativeEntries(jar)) {
        URL url = new URL("jar:" + jar.toURI() + "!/" + name);
        Loader.cacheResource(url);
        files++;
      }
    }
    System.out.println("pre-extract: " + files + " native files from the class path in " + cache);
    for (String className : args) {
      try {
        Loader.load(Class.forName(className));
        System.out.println("pre-extract: loaded " + className);
      } catch (ClassNotFoundException e) {
        System.err.println("pre-extract: class " + className + " is not on the class path");
        System.exit(1);
      } catch (Throwable t) {
        // Expected where this machine lacks what the server has (GPU, CUDA, libtritonserver.so).
        System.out.println("pre-extract: " + className + " extracted but not loadable here: "
            + firstLine(t));
      }
    }
  }

  /** The native libraries of a jar: entries under a platform directory ending in .so[.N]. */
  private static List<String> nativeEntries(File jar) throws IOException {
    List<String> names = new ArrayList<>();
    try (JarFile file = new JarFile(jar)) {
      Enumeration<JarEntry> entries = file.entries();
      while (entries.hasMoreElements()) {
        JarEntry e = entries.nextElement();
        String n = e.getName();
        if (!e.isDirectory() && !n.startsWith("META-INF/") && n.matches(".*/lib[^/]*\\.so(\\.[0-9.]+)?")) {
          names.add(n);
        }
      }
    }
    return names;
  }

  private static String firstLine(Throwable t) {
    String m = String.valueOf(t);
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }
}
