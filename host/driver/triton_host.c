/*
 * The triton-host executable: a thin driver linked against libtritonserver.so (rpath $ORIGIN),
 * so backends loaded by the host resolve the server API from that same library.
 */
int TRITONHOST_Main(int argc, char** argv);

int
main(int argc, char** argv)
{
  return TRITONHOST_Main(argc, argv);
}
