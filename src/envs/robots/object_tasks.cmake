# Object and terrain tasks of the multi-robot world: object_displacement, object_manipulation,
# terrain_traversal (included by src/envs/CMakeLists.txt).
target_sources(rlpipe_envs PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/object_task_util.cc
  ${CMAKE_CURRENT_LIST_DIR}/object_displacement.cc
  ${CMAKE_CURRENT_LIST_DIR}/object_manipulation.cc
  ${CMAKE_CURRENT_LIST_DIR}/terrain_traversal.cc)
rlpipe_test(envs_object_tasks_test SOURCES robots/object_tasks_test.cc DEPS rlpipe_envs)
