/** The callee of upcall.c: returns System.nanoTime at its first line. */
public class Up {
  public static long f(long instance, long requests, int count, long entered) {
    return System.nanoTime();
  }
}
