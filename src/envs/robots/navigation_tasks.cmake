# Navigation tasks of the multi-robot world: obstacle_navigation and narrow_passage.
target_sources(rlpipe_envs PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/navigation_common.cc
  ${CMAKE_CURRENT_LIST_DIR}/obstacle_navigation.cc
  ${CMAKE_CURRENT_LIST_DIR}/narrow_passage.cc)

rlpipe_test(envs_navigation_tasks_test SOURCES robots/navigation_tasks_test.cc DEPS rlpipe_envs)
